// The documentation that is built or cross-linked: the man page is what the
// help texts say now and renders cleanly; every link between README.md and
// docs/*.md leads to a file and a heading that exist.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './support/shipped.js';

const MAN_PAGE = join(REPO, 'docs', 'proclaunch.1');
const onPath = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

describe('the man page proclaunch(1)', () => {
  it('is what scripts/man.mjs makes of the help texts now (else: npm run man)', () => {
    const run = spawnSync(process.execPath, ['scripts/man.mjs', '--check'], { cwd: REPO, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('renders without a warning and holds every command of --help', () => {
    const help = spawnSync(process.execPath, ['dist/cli/main.js', '--help'], { cwd: REPO, encoding: 'utf8' }).stdout;
    const commands = [...new Set([...help.matchAll(/^\s*proclaunch ([a-z]+)\b/gm)].map((m) => m[1]))];
    expect(commands).toContain('status');
    const env = { ...process.env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat', LC_ALL: 'C.UTF-8' };
    const render = onPath('man')
      ? spawnSync('man', ['-l', MAN_PAGE], { encoding: 'utf8', env })
      : onPath('groff')
        ? spawnSync('groff', ['-man', '-Tutf8', '-ww', MAN_PAGE], { encoding: 'utf8', env })
        : null;
    if (render) {
      expect(render.stderr).toBe('');
      expect(render.status).toBe(0);
      expect(render.stdout).toMatch(/^SYNOPSIS$/m);
      for (const command of commands) expect(render.stdout).toContain(`proclaunch ${command}`);
    } else {
      // Neither man nor groff here: the groff source itself.
      const text = readFileSync(MAN_PAGE, 'utf8');
      expect(text).toMatch(/^\.TH PROCLAUNCH 1 /m);
      for (const command of commands) expect(text).toContain(`\\fBproclaunch ${command}`);
    }
  });

  it('is installed with the package: package.json "man", and in "files"', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { man: string[]; files: string[] };
    expect(pkg.man).toEqual(['./docs/proclaunch.1']);
    expect(pkg.files.some((entry) => entry === 'docs/' || entry === 'docs/proclaunch.1')).toBe(true);
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const heading = fence ? null : /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const slug = heading[1].trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Every [text](target) outside code fences and code spans. */
function linksOf(markdown: string): string[] {
  const links: string[] = [];
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    if (fence) continue;
    for (const match of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) links.push(match[1]);
  }
  return links;
}

describe('links between README.md and docs/', () => {
  const pages = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

  it('lead to files and headings that exist', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const link of linksOf(readFileSync(join(REPO, page), 'utf8'))) {
        if (/^[a-z][a-z+.-]*:/i.test(link)) continue; // https:, mailto:
        const [path, anchor] = link.split('#');
        const target = path === '' ? page : normalize(join(dirname(page), path));
        if (!existsSync(join(REPO, target))) broken.push(`${page}: ${link} (no file ${target})`);
        else if (anchor && target.endsWith('.md') && !anchorsOf(readFileSync(join(REPO, target), 'utf8')).has(anchor)) {
          broken.push(`${page}: ${link} (no heading #${anchor} in ${target})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
