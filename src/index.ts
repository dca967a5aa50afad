/** Public API for playbooks: `import { playbook, steps } from 'lvsplay'`. */
export { playbook, play } from './playbook.ts';
export type { Playbook, Play, Role, Step, StepLike, Fact, Plan, Change, PlanContext, ExpandContext, HostInfo, Problem, ValidateContext, PlaybookCheck, PlaybookCheckContext, RoleProblem, StepOptions } from './engine/types.ts';
export type { PredictedState, Prediction } from './engine/predicted-state.ts';
export { ValidationError } from './errors.ts';
export { q, raw, sh } from './shell.ts';
export { services, type ServicesCheck, type ServicesCheckOptions, type VerifyEntry } from './verify/spec.ts';
export * from './steps/index.ts';
