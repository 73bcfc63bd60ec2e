/**
 * Imported first by the `reverb` entry point, before any other module:
 * loading the dependencies allocates enough surviving objects to make V8 grow
 * the young generation, so its sizing has to be settled before that
 * (src/ops/young-generation.ts).
 */
import { keepYoungGenerationSmall } from '../ops/young-generation.js';

keepYoungGenerationSmall();
