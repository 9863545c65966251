// `node --import ./test/support/record-modules.mjs`: append the URL of every
// module the process loads to $PROCLAUNCH_TEST_MODULES (one a line), so a
// test can tell which parts of proclaunch a process loaded.
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (process.env.PROCLAUNCH_TEST_MODULES) appendFileSync(process.env.PROCLAUNCH_TEST_MODULES, resolved.url + '\\n');
  return resolved;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
