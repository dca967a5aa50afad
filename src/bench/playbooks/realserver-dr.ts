/**
 * The lvsplay side of the benchmark: exactly the tasks of src/bench/ansible/realserver-dr.yml, written as explicit
 * steps (not the realserver-dr role) so that both tools do the same work. Host variables: bench_vip, bench_nic.
 */
import { playbook, file, sysctl, lines, address, command } from 'lvsplay';
import { arpSysctls, HANDLER_LINE, HANDLER_LOG, MODULES_CONTENT, MODULES_FILE, RC_LOCAL, rcLocalLine, SYSCTL_FILE } from '../config.ts';

export default playbook({
  name: 'bench: LVS-DR real server',
  plays: [
    {
      name: 'realserver-dr',
      hosts: 'all',
      steps: [
        (ctx) => {
          const vip = String(ctx.host.vars.bench_vip);
          const nic = String(ctx.host.vars.bench_nic);
          return [
            sysctl(SYSCTL_FILE, arpSysctls(nic)),
            file(MODULES_FILE, { content: MODULES_CONTENT, mode: '0644', notify: 'record converge' }),
            lines(RC_LOCAL, { block: [rcLocalLine(vip)], notify: 'record converge' }),
            address('lo', `${vip}/32`),
          ];
        },
      ],
      handlers: {
        'record converge': command(`echo '${HANDLER_LINE}' >> ${HANDLER_LOG}`),
      },
    },
  ],
});
