# syntax=docker/dockerfile:1
# reverb-ts in a container: docs/deployment.md ("Docker") says how to build and run it.
#
# The base is Debian (glibc): uWebSockets.js ships glibc binaries only, so on
# Alpine (musl) the server would fall back to ws. UWS is the uWebSockets.js
# release installed next to reverb-ts; the official v20.52.0 has binaries for
# Node 20, 22 and 24 that need glibc 2.33 (bookworm has 2.36). Build with
# --build-arg UWS= to keep only the bundled build, which loads on Node 20 alone.
ARG NODE_VERSION=24

# 1. Build the package exactly as `npm pack` publishes it (prepack compiles dist/).
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Scripts run later, in npm pack. (Optional dependencies stay: TypeScript 7 is one per platform.)
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json README.md LICENSE ./
COPY src ./src
COPY docs ./docs
RUN npm pack --pack-destination /tmp && mv /tmp/reverb-ts-*.tgz /tmp/reverb-ts.tgz

# 2. Install it as a user would, with production dependencies only, and keep
#    the one uWebSockets.js binary this platform and Node version load.
FROM node:${NODE_VERSION}-bookworm-slim AS install
ARG UWS=https://github.com/uNetworking/uWebSockets.js/archive/refs/tags/v20.52.0.tar.gz
WORKDIR /opt/reverb
COPY --from=build /tmp/reverb-ts.tgz /tmp/
# With a release of its own, the bundled optional one (Node 20 only, 110 MB) is left out.
# No dependency needs its install script (under the bundled uWebSockets.js,
# bufferutil and utf-8-validate only check their prebuilt binaries), and
# --allow-remote lets npm 12 install a tarball from a URL.
RUN if [ -n "$UWS" ]; then set -- --omit=optional "uWebSockets.js@$UWS"; fi \
 && npm install --omit=dev --ignore-scripts --no-audit --no-fund --allow-remote=root /tmp/reverb-ts.tgz "$@" \
 && find node_modules -name 'uws_*.node' ! -name "uws_linux_$(node -p process.arch)_$(node -p process.versions.modules).node" -delete

# 3. Run: the working directory /app is where the project's .env and config
#    files are mounted (read only is enough).
FROM node:${NODE_VERSION}-bookworm-slim
# The image's values win over a mounted .env (which never overrides the environment):
# listen on every interface of the container, on the port EXPOSE names.
ENV NODE_ENV=production REVERB_SERVER_HOST=0.0.0.0 REVERB_SERVER_PORT=8080
COPY --from=install /opt/reverb /opt/reverb
WORKDIR /app
USER node
EXPOSE 8080
# node:*-slim has neither curl nor wget: Node's fetch asks /up (under REVERB_SERVER_PATH when set).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.REVERB_SERVER_PORT}${process.env.REVERB_SERVER_PATH ?? ''}/up`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) shuts down gracefully: clients get 4200 and reconnect, then exit 0.
ENTRYPOINT ["node", "/opt/reverb/node_modules/reverb-ts/dist/cli/index.js"]
CMD ["start"]
