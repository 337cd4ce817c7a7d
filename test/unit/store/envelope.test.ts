import { describe, expect, it } from 'vitest';
import { checkSchemaSpec, upgradeEnvelope, StoreError } from '../../../core/store/index.ts';
import type { SchemaSpec } from '../../../core/store/index.ts';

// v1: { ids: number[] } → v2: { items: {id}[] } → v3: { items: {id, label}[] }
const spec: SchemaSpec = {
  version: 3,
  migrations: [
    (d) => ({ items: (d as { ids: number[] }).ids.map((id) => ({ id })) }),
    (d) => ({ items: (d as { items: { id: number }[] }).items.map((x) => ({ ...x, label: `#${x.id}` })) }),
  ],
  validate: (d) => (Array.isArray((d as { items?: unknown }).items) ? undefined : 'items is missing'),
};
const FILE = '/x/things.json';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreError) {
      expect(e.file).toBe(FILE);
      return e.code;
    }
    throw e;
  }
  return undefined;
}

describe('store record envelope', () => {
  it('runs the migrations in order from the version found', () => {
    expect(upgradeEnvelope({ schema_version: 1, data: { ids: [7, 8] } }, spec, FILE)).toEqual({
      from: 1,
      data: { items: [{ id: 7, label: '#7' }, { id: 8, label: '#8' }] },
    });
    expect(upgradeEnvelope({ schema_version: 2, data: { items: [{ id: 9 }] } }, spec, FILE)).toEqual({ from: 2, data: { items: [{ id: 9, label: '#9' }] } });
    const current = { items: [{ id: 1, label: 'kept' }] };
    expect(upgradeEnvelope({ schema_version: 3, data: current }, spec, FILE)).toEqual({ from: 3, data: current });
  });

  it('refuses newer versions, foreign shapes, failing migrations and invalid data with the right code', () => {
    expect(codeOf(() => upgradeEnvelope({ schema_version: 4, data: {} }, spec, FILE))).toBe('newer_version');
    for (const raw of [[1], 'text', 5, { data: {} }, { schema_version: 1 }, { schema_version: 0, data: {} }, { schema_version: 1.5, data: {} }, { schema_version: '1', data: {} }]) {
      expect(codeOf(() => upgradeEnvelope(raw, spec, FILE))).toBe('invalid');
    }
    expect(codeOf(() => upgradeEnvelope({ schema_version: 1, data: { noIds: true } }, spec, FILE))).toBe('migration_failed');
    expect(codeOf(() => upgradeEnvelope({ schema_version: 3, data: { nope: 1 } }, spec, FILE))).toBe('invalid');
  });

  it('says what to do: upgrade for a newer file', () => {
    expect(() => upgradeEnvelope({ schema_version: 9, data: {} }, spec, FILE)).toThrow(/newer Coulomb.*upgrade/);
  });

  it('insists the migration list matches the version', () => {
    expect(() => checkSchemaSpec({ version: 3, migrations: [(d) => d] })).toThrow(RangeError);
    expect(() => checkSchemaSpec({ version: 0, migrations: [] })).toThrow(RangeError);
    expect(() => checkSchemaSpec(spec)).not.toThrow();
  });
});
