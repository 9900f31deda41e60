import { describe, expect, it } from 'vitest';
import { parseVersion, proposeVersions } from '../../src/lib/version';

describe('version proposer', () => {
  it('proposes 1.0.0 before the first publish', () => {
    expect(proposeVersions(null)).toEqual({ patch: '1.0.0', minor: '1.0.0', major: '1.0.0' });
  });
  it('bumps patch, minor and major', () => {
    expect(proposeVersions('1.4.2')).toEqual({ patch: '1.4.3', minor: '1.5.0', major: '2.0.0' });
    expect(proposeVersions('0.9.9')).toEqual({ patch: '0.9.10', minor: '0.10.0', major: '1.0.0' });
  });
  it('releases a pre-release before bumping past it', () => {
    expect(proposeVersions('2.0.0-rc.1')).toEqual({ patch: '2.0.0', minor: '2.0.0', major: '2.0.0' });
    expect(proposeVersions('1.3.0-beta')).toEqual({ patch: '1.3.0', minor: '1.3.0', major: '2.0.0' });
    expect(proposeVersions('1.3.4-beta')).toEqual({ patch: '1.3.4', minor: '1.4.0', major: '2.0.0' });
  });
  it('ignores build metadata and refuses what is not SemVer', () => {
    expect(proposeVersions('1.2.3+build.5').patch).toBe('1.2.4');
    expect(parseVersion('01.2.3')).toBeNull();
    expect(parseVersion('1.2')).toBeNull();
    expect(proposeVersions('banana').patch).toBe('1.0.0');
  });
});
