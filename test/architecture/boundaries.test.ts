import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

describe('import boundaries', () => {
  it('dependency-cruiser finds no violation (engine imports only engine, no cycles)', async () => {
    const config = require('../../.dependency-cruiser.cjs');
    const result = await cruise(['src'], { ruleSet: config, validate: true, ...config.options });
    const output = result.output as ICruiseResult;
    const violations = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
    expect(violations).toEqual([]);
    // The rule is live: the engine's modules were actually cruised.
    expect(output.modules.some((m) => m.source === 'src/engine/trainer.ts')).toBe(true);
  });

  it('the engine reads no environment, unseeded randomness or Node globals', () => {
    const dir = 'src/engine';
    const offenders: string[] = [];
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      const banned = [/\bprocess\./, /\bMath\.random\b/, /\brequire\(/, /\bBuffer\b/, /\bglobalThis\b/, /\bimport\(/];
      for (const pattern of banned) if (pattern.test(text)) offenders.push(`${file}: ${pattern}`);
    }
    expect(offenders).toEqual([]);
  });
});
