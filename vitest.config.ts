import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // Builds dist/ once per run, for the few tests that run the real bin/coord.js.
    globalSetup: ["test/helpers/global-setup.ts"],
    // Two cores, and a few tests still spawn real processes: keep the pool small.
    maxWorkers: 2,
    coverage: {
      provider: "v8",
      include: ["src/**"],
      reporter: ["text-summary", "html"],
      reportsDirectory: "coverage",
      // Numbers even when a test fails; the run still exits non-zero.
      reportOnFailure: true,
    },
  },
});
