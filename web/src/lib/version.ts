// Proposes the next version for Publish from the latest published one (SemVer 2.0.0).

export interface Proposals {
  patch: string;
  minor: string;
  major: string;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseVersion(v: string): [number, number, number, boolean] | null {
  const m = SEMVER.exec(v.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] !== undefined];
}

/** Next patch, minor and major after `latest`; 1.0.0 for all three when there is none (or it is unreadable).
 * A pre-release's own release comes next for the level it sits on (1.2.0-rc.1 -> patch/minor 1.2.0). */
export function proposeVersions(latest: string | null | undefined): Proposals {
  const parsed = latest ? parseVersion(latest) : null;
  if (!parsed) return { patch: '1.0.0', minor: '1.0.0', major: '1.0.0' };
  const [ma, mi, pa, pre] = parsed;
  const release = `${ma}.${mi}.${pa}`;
  return {
    patch: pre ? release : `${ma}.${mi}.${pa + 1}`,
    minor: pre && pa === 0 ? release : `${ma}.${mi + 1}.0`,
    major: pre && pa === 0 && mi === 0 ? release : `${ma + 1}.0.0`,
  };
}
