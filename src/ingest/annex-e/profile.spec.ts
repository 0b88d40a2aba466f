import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CT_KEEP } from './keep-list';
import { actionOf, decide, rowOf } from './profile';
import { ANNEX_E_ROWS } from './table-e1-1.generated';

describe('the Annex E profile for CT', () => {
  it('is generated from the checked-in copy of the standard, every row of it', () => {
    // Exits 1 when the generated file is not what the source gives.
    execFileSync(process.execPath, [join(__dirname, '..', '..', '..', 'scripts', 'annex-e', 'generate.mjs'), '--check'], { stdio: 'pipe' });
    expect(ANNEX_E_ROWS.length).toBeGreaterThan(600);
    expect(new Set(ANNEX_E_ROWS.map((r) => r.tag)).size).toBe(ANNEX_E_ROWS.length);
  });

  it('finds rows by exact tag, by repeating-group mask, and for every private attribute', () => {
    expect(rowOf('00100010')?.name).toBe("Patient's Name");
    expect(rowOf('60024000')?.tag).toBe('60xx4000'); // Overlay Comments of group 6002
    expect(rowOf('501E0010')?.tag).toBe('50xxxxxx'); // Curve Data
    expect(rowOf('00291010')?.tagKind).toBe('private');
    expect(rowOf('00280010')).toBeUndefined(); // Rows: not the table's
  });

  it('applies the Modified Dates option where its column has an action', () => {
    const studyDate = rowOf('00080020')!;
    expect([studyDate.basic, actionOf(studyDate)]).toEqual(['Z', 'C']);
    expect(decide('00080020', 'DA')).toEqual({ treatment: { do: 'clean' }, reason: 'E.1-1 C' });
  });

  it('resolves the conditional codes by what a CT image requires', () => {
    // Contrast/Bolus Agent: Z/D, Type 2 → Z; Content Date: Z/D with the option's C.
    expect(decide('00180010', 'LO')).toEqual({ treatment: { do: 'empty' }, reason: 'E.1-1 Z/D→Z' });
    // Institution Name: X/Z/D, not in the CT IOD → X; Referenced Image Sequence: X/Z/U*, Type 3 → X.
    expect(decide('00080080', 'LO').treatment).toEqual({ do: 'remove' });
    expect(decide('00081140', 'SQ')).toEqual({ treatment: { do: 'remove' }, reason: 'E.1-1 X/Z/U*→X' });
    expect(decide('00100020', 'LO').treatment).toEqual({ do: 'pseudonym' });
    expect(decide('0020000D', 'UI').treatment).toEqual({ do: 'uid' });
    expect(decide('00401101', 'SQ').treatment).toEqual({ do: 'dummy' }); // Person Identification Code Sequence: D
  });

  it('should not keep what neither the table nor the keep list names, nor UN bytes, nor the icon or trailing padding', () => {
    expect(decide('00181050', 'DS')).toEqual({ treatment: { do: 'remove' }, reason: 'default deny' }); // Spatial Resolution
    expect(decide('44440010', 'UN')).toEqual({ treatment: { do: 'remove' }, reason: 'UN' });
    expect(decide('00100020', 'UN').treatment).toEqual({ do: 'remove' }); // UN whatever the table says
    expect(decide('00880200', 'SQ').treatment).toEqual({ do: 'remove' });
    expect(decide('FFFCFFFC', 'OB').treatment).toEqual({ do: 'remove' });
    expect(decide('00280010', 'US')).toEqual({ treatment: { do: 'keep' }, reason: 'keep list' });
    expect(decide('00082218', 'SQ').treatment.do).toBe('codes');
  });

  it('keeps no attribute on the keep list that the table also names (the table decides those)', () => {
    expect([...CT_KEEP.keys()].filter((t) => rowOf(t) !== undefined)).toEqual([]);
  });
});
