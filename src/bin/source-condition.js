// Module resolve hook (registered by which-build.js when lvsplay runs from its sources): adds the
// "lvsplay-source" export condition, so `import 'lvsplay'` / `'lvsplay/roles'` resolve to the .ts sources
// instead of dist/ (package.json "exports"). Tests get the same through ava's `--conditions=lvsplay-source`.
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, 'lvsplay-source'] });
}
