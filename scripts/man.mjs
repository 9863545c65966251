#!/usr/bin/env node
// Builds the man page docs/proclaunch.1 from what the CLI itself prints, so
// that the two cannot drift: the synopsis and the supervisor's options from
// `proclaunch --help` (src/cli/supervise-options.ts SUPERVISE_USAGE, src/cli/control.ts
// CONTROL_USAGE), one subsection per control command from its `--help`
// (the `help` of each command in src/cli/commands/), the description from
// the README's opening paragraph and FILES from docs/state-dir.md. Reads the
// compiled CLI in dist/ (`npm run man` builds first).
//
//   node scripts/man.mjs            write docs/proclaunch.1
//   node scripts/man.mjs --check    exit 1, saying so, when docs/proclaunch.1 is stale
//   node scripts/man.mjs --stdout   print it
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const target = join(root, 'docs', 'proclaunch.1');

/** Text as roff sees it: backslashes and dashes escaped, no line taken for a request, non-ASCII as \\[uXXXX]. */
function escape(text) {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(/[^\x00-\x7f]/gu, (char) => `\\[u${char.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

/** Markdown inline markup (`code`, **bold**, [text](link)) to roff fonts. */
function inline(markdown) {
  return escape(markdown.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1'))
    .replace(/\*\*([^*]+)\*\*/g, '\\fB$1\\fR')
    .replace(/`([^`]+)`/g, '\\fB$1\\fR');
}

const bold = (text) => `\\fB${escape(text)}\\fR`;

/** Splits "  --since TIME an ISO time" at the column where the block's descriptions start. */
function splitOptions(lines) {
  const columns = new Map();
  for (const line of lines) {
    const match = /^(\s+\S(?:\S| (?! ))*)\s{2,}\S/.exec(line);
    if (match) columns.set(match[0].length - 1, (columns.get(match[0].length - 1) ?? 0) + 1);
  }
  const column = [...columns].sort((a, b) => b[1] - a[1])[0]?.[0];
  return lines.map((line) => {
    if (column !== undefined && line[column - 1] === ' ' && line[column] !== ' ' && line.length > column) {
      return [line.slice(0, column).trim(), line.slice(column).trim()];
    }
    const match = /^\s*(\S(?:\S| (?! ))*)\s*(.*)$/.exec(line);
    return [match[1], match[2]];
  });
}

/**
 * One help text (as `--help` prints it) as roff: `Usage:` lines as the
 * synopsis, lines of "  -x ARG   what" as a tagged list (deeper-indented lines
 * continue the one before), `Example:` as an example, the rest as paragraphs.
 */
function renderHelp(text) {
  const out = [];
  const lines = text.replace(/\n+$/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const usage = /^Usage:\s*(.*)$/.exec(line);
    if (usage) {
      const synopsis = usage[1] ? [usage[1]] : [];
      while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]) && !/^\s+-/.test(lines[i + 1])) synopsis.push(lines[++i].trim());
      out.push('.PP', '.nf', ...synopsis.map((s) => synopsisLine(s.split(/\s{2,}/)[0])), '.fi');
      continue;
    }
    const example = /^(Examples?):\s*(.*)$/.exec(line);
    if (example) {
      const commands = example[2] ? [example[2]] : [];
      while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1])) commands.push(lines[++i].trim());
      out.push('.PP', `${example[1]}:`, '.PP', '.RS 4', '.EX', ...commands.map(escape), '.EE', '.RE');
      continue;
    }
    if (/^\s+-/.test(line)) {
      const block = [];
      while (i < lines.length && /^\s+\S/.test(lines[i])) block.push(lines[i++]);
      i--;
      const options = [];
      const indent = /^\s*/.exec(block[0])[0].length;
      for (const entry of block) {
        if (/^\s*/.exec(entry)[0].length > indent && options.length > 0) options[options.length - 1].push(entry.trim());
        else options.push([entry]);
      }
      const split = splitOptions(options.map((entry) => entry[0]));
      options.forEach((entry, n) => out.push('.TP', `.B ${escape(split[n][0])}`, escape([split[n][1], ...entry.slice(1)].join(' ').trim())));
      continue;
    }
    if (/^\s+proclaunch\b/.test(line)) {
      const synopsis = [line.trim()];
      while (i + 1 < lines.length && /^\s+proclaunch\b/.test(lines[i + 1])) synopsis.push(lines[++i].trim());
      out.push('.PP', '.nf', ...synopsis.map((s) => synopsisLine(s.split(/\s{2,}/)[0])), '.fi');
      continue;
    }
    const paragraph = [line.trim()];
    while (i + 1 < lines.length && /^\S/.test(lines[i + 1]) && !/^(Usage|Examples?):/.test(lines[i + 1])) paragraph.push(lines[++i].trim());
    out.push('.PP', escape(paragraph.join(' ')));
  }
  return out;
}

/** "proclaunch status [NAME ...]": the command in bold, its arguments in roman. */
function synopsisLine(text) {
  const match = /^(proclaunch(?: [a-z][a-z-]*(?:\|[a-z]+)*)?)(.*)$/.exec(text);
  return match ? `${bold(match[1])}${escape(match[2])}` : escape(text);
}

/** The synopsis lines of `proclaunch --help`: every line that starts with the command. */
function synopsisOf(...texts) {
  const lines = [];
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const match = /^(?:Usage:)?\s*(proclaunch\b.*)$/.exec(line);
      if (match) lines.push(match[1].split(/\s{2,}/)[0]);
    }
  }
  return lines;
}

/** The README's opening paragraphs: everything between the title and the first section. */
function readmeDescription() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const body = readme.split('\n## ')[0].split('\n').slice(1).join('\n').trim();
  return body
    .split(/\n\s*\n/)
    .filter((paragraph) => !/docs\//.test(paragraph))
    .flatMap((paragraph) => ['.PP', inline(paragraph.replace(/\s*\n\s*/g, ' '))]);
}

/** FILES: the list at the top of docs/state-dir.md, "- `NAME` — what". */
function stateDirFiles() {
  const page = readFileSync(join(root, 'docs', 'state-dir.md'), 'utf8');
  const items = page.split('\n## ')[0].match(/^- .*(?:\n {2}.*)*/gm) ?? [];
  return items.flatMap((item) => {
    const [names, what] = item.replace(/^- /, '').replace(/\s*\n\s*/g, ' ').split(' — ');
    const paths = names.replace(/`([^`]+)`/g, (_, path) => `\`STATE_DIR/${path}\``);
    return ['.TP', inline(paths), inline((what ?? '').replace(/\s*\(below\)/, '').replace(/[;.]$/, ''))];
  });
}

/** Every control command with its help, in the order `--help` lists them. */
async function commands(order) {
  const dir = join(root, 'dist', 'cli', 'commands');
  const found = new Map();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.js')).sort()) {
    const module = await import(pathToFileURL(join(dir, file)).href);
    for (const value of Object.values(module)) {
      const name = typeof value?.help === 'string' && typeof value.run === 'function' ? /^Usage: proclaunch (\S+)/.exec(value.help)?.[1] : undefined;
      if (name && !found.has(name)) found.set(name, value.help);
    }
  }
  const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
  return [...found].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
}

export async function buildManPage() {
  const dist = (path) => import(pathToFileURL(join(root, 'dist', 'cli', path)).href);
  const { SUPERVISE_USAGE: USAGE, SUPERVISE_HELP } = await dist('supervise-options.js');
  const { CONTROL_USAGE } = await dist('control.js');
  const { CONTROL_COMMANDS } = await dist('command-names.js');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const [controlIntro, ...controlRest] = CONTROL_USAGE.split('\n');
  // "Exit codes: …" and the lines that go on with it (they start with a code or a parenthesis).
  const exitCodesRange = (lines) => {
    const from = lines.findIndex((line) => /^Exit codes:/.test(line));
    let to = from + 1;
    while (from >= 0 && to < lines.length && /^[\d(]/.test(lines[to])) to++;
    return from < 0 ? [0, 0] : [from, to];
  };
  const exitCodesOf = (lines) => {
    const [from, to] = exitCodesRange(lines);
    return from === to ? [] : [lines.slice(from, to).join(' ').replace(/^Exit codes:\s*/, '')];
  };
  const exitCodes = exitCodesOf(controlRest);
  const superviseExitCodes = exitCodesOf(SUPERVISE_HELP.split('\n'));
  const [codesFrom, codesTo] = exitCodesRange(controlRest);
  const controlNotes = controlRest.filter((line, i) => /^\S/.test(line) && (i < codesFrom || i >= codesTo));
  const supervise = USAGE.split(/\n\s*\n/).filter((block) => !/^Usage:/.test(block)).join('\n\n');
  const page = [
    `.\\" Generated by scripts/man.mjs from the CLI's help texts, the README and docs/state-dir.md: do not edit.`,
    `.TH PROCLAUNCH 1 "" "proclaunch ${escape(version)}" "User Commands"`,
    '.nh',
    '.ad l',
    '.SH NAME',
    'proclaunch \\- a user\\-space process manager: drop a profile directory in, the service runs',
    '.SH SYNOPSIS',
    '.nf',
    ...synopsisOf(USAGE, CONTROL_USAGE).map(synopsisLine),
    '.fi',
    '.SH DESCRIPTION',
    ...readmeDescription(),
    '.SH SUPERVISING',
    ...renderHelp(supervise),
    '.SH COMMANDS',
    '.PP',
    escape(controlIntro.replace(/:$/, '.')),
    ...controlNotes.flatMap((line) => ['.PP', escape(line)]),
  ];
  for (const [name, help] of await commands(CONTROL_COMMANDS)) page.push(`.SS ${escape(name)}`, ...renderHelp(help));
  const { FLEET_USAGE } = await import(pathToFileURL(join(root, 'dist', 'fleet', 'cli.js')).href);
  page.push('.SH FLEET', ...renderHelp(FLEET_USAGE));
  page.push(
    '.SH EXIT STATUS',
    ...exitCodes.flatMap((line) => ['.PP', escape(line)]),
    ...superviseExitCodes.flatMap((line) => ['.PP', escape(`supervise: ${line}`)]),
    '.SH ENVIRONMENT',
    '.TP',
    '.B PROCLAUNCH_STATE',
    'the STATE_DIR of the control commands when there is no \\fB\\-\\-state\\fR; services, \\fBfinish\\fR scripts and hooks are given their own.',
    '.TP',
    '.B PROCLAUNCH_HOSTS',
    'the hosts file of \\fBproclaunch fleet\\fR when there is no \\fB\\-f\\fR (else \\fI./hosts\\fR).',
    '.TP',
    '.B PROCLAUNCH_SSH',
    'the ssh command of \\fBproclaunch fleet\\fR, split on spaces (else \\fBssh\\fR).',
    '.TP',
    '.B PROCLAUNCH_JSON_ENVELOPE=1',
    'a control command prints one JSON line with the versions, its exit code and its output (what the fleet reads on each host).',
    '.TP',
    '.B NO_COLOR',
    'no colour in tables, even on a terminal.',
    '.TP',
    '.B PROCLAUNCH_NO_NATIVE=1',
    'do without the native module (pid watching polls \\fI/proc\\fR).',
    '.SH FILES',
    ...stateDirFiles(),
    '.SH SEE ALSO',
    'The README and the pages in \\fIdocs/\\fR of the package: profile files, the control protocol, readiness, logs, output, hooks, the fleet.',
    '.PP',
    '\\fBsupervisord\\fR(1), \\fBrunsvdir\\fR(8), \\fBs6\\-svscan\\fR(1), \\fBsystemctl\\fR(1), \\fBlogrotate\\fR(8)',
  );
  return `${page.join('\n')}\n`;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const mode = process.argv[2];
  const text = await buildManPage();
  if (mode === '--stdout') process.stdout.write(text);
  else if (mode === '--check') {
    let committed = '';
    try {
      committed = readFileSync(target, 'utf8');
    } catch {
      // missing: stale
    }
    if (committed !== text) {
      process.stderr.write('docs/proclaunch.1 is not what the help texts say now: run `npm run man`\n');
      process.exit(1);
    }
  } else {
    writeFileSync(`${target}.tmp`, text);
    renameSync(`${target}.tmp`, target);
  }
}
