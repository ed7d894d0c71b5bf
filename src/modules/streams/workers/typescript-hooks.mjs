// Development and test only: lets a worker thread load the TypeScript sources directly (the built
// app runs the compiled dist/**/*.js and never loads this file). Imports in the sources name `.js`
// files, as NodeNext requires; when only the `.ts` file exists it is loaded instead, with types
// removed by Node's own transform (parameter properties need `mode: 'transform'`). The workspace
// packages (@unified-activity/*) resolve to their sources too, through their `source` export
// condition, as under tsc and Jest, so no build of libs/ is needed either.
import { readFileSync } from 'node:fs';
import { registerHooks, stripTypeScriptTypes } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith('@unified-activity/')) {
      return nextResolve(specifier, { ...context, conditions: [...(context.conditions ?? []), 'source'] });
    }
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      throw error;
    }
  },
  load(url, context, nextLoad) {
    if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
    const source = stripTypeScriptTypes(readFileSync(new URL(url), 'utf8'), { mode: 'transform', sourceUrl: url });
    return { format: 'module', source, shortCircuit: true };
  },
});
