/** A configuration problem, reported as one line before start-up stops. */
export class ConfigError extends Error {}
