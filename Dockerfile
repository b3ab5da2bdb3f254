# syntax=docker/dockerfile:1
# Build stage: full dependencies; the wasm kernels compiled from assembly/, prisma generate, tsc into dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY assembly ./assembly
COPY public ./public
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: compiled JS, production dependencies, the migrations the API applies on start and the dashboard.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# OpenBLAS for the engine's native matrix path (BACKPROP_NATIVE_GEMM=auto); without it products run in WebAssembly.
RUN apt-get update && apt-get install -y --no-install-recommends libopenblas0-pthread && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/public ./public
USER node
# 3001: a worker's health endpoint, on the container's loopback unless WORKER_HEALTH_HOST=0.0.0.0.
EXPOSE 3000 3001
# The API by default; docker-compose runs the worker from the same image with another command.
CMD ["node", "dist/server.js"]
