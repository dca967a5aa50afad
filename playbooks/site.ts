/**
 * One-shot bootstrap of the whole LVS cluster (inventory/lab.yaml, or any inventory with the same groups):
 * the NAT director, the DR/TUN HA director pair, real servers of every kind with a small web server that
 * answers with its host name, and a node-svc node.
 *
 *   lvsplay run playbooks/site.ts -i inventory/lab.yaml
 *
 * Groups: nat_directors, ha_directors, realservers_dr, realservers_tun, realservers_nat, nodes.
 * Real servers come first: a director's health checks then find them serving when keepalived starts.
 */
import { playbook } from 'lvsplay';
import { directorDrHa, directorNat, nodeSvc, realserverDr, realserverNat, realserverTun, webBackend } from 'lvsplay/roles';

export default playbook({
  name: 'LVS cluster bootstrap',
  plays: [
    { name: 'DR real servers', hosts: 'realservers_dr', roles: [realserverDr(), webBackend()] },
    { name: 'TUN real servers', hosts: 'realservers_tun', roles: [realserverTun(), webBackend()] },
    { name: 'NAT real servers', hosts: 'realservers_nat', roles: [realserverNat({ tcpTimestamps: false, finTimeout: 30 }), webBackend()] },
    { name: 'NAT director', hosts: 'nat_directors', roles: [directorNat()] },
    { name: 'DR/TUN director pair', hosts: 'ha_directors', roles: [directorDrHa()] },
    { name: 'node-svc nodes', hosts: 'nodes', roles: [nodeSvc()] },
  ],
});
