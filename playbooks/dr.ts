/**
 * An LVS-DR cluster only: the director pair (director-dr-ha) and its DR real servers (realserver-dr), e.g. the
 * ingress tier of inventory/prod.example.yaml. Real servers first, so they answer when the health checks start.
 *
 *   lvsplay run playbooks/dr.ts -i inventory/prod.example.yaml
 *
 * Groups: directors, realservers.
 */
import { playbook } from 'lvsplay';
import { directorDrHa, realserverDr } from 'lvsplay/roles';

export default playbook({
  name: 'LVS-DR director pair and real servers',
  plays: [
    { name: 'DR real servers', hosts: 'realservers', roles: [realserverDr()] },
    { name: 'DR director pair', hosts: 'directors', roles: [directorDrHa()] },
  ],
});
