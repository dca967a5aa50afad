/**
 * One-shot bootstrap of the whole LVS cluster (inventory/lab.yaml, or any inventory with the same groups):
 * real servers of every kind with a small web server answering with its host name, the director pair (NAT, DR
 * and TUN services on one keepalived, active-active VRRP), and a node-svc node.
 *
 *   lvsplay run playbooks/site.ts -i inventory/lab.yaml
 *
 * Groups: realservers, directors, nodes. The real server roles act on the hosts the services list (a DR real
 * server gets the DR VIPs on lo, a TUN one tunl0, a NAT one its route via the director), so one play covers all.
 * Real servers come first: the directors' health checks then find them serving when keepalived starts.
 */
import { playbook } from 'lvsplay';
import { directorDrHa, nodeSvc, realserverDr, realserverNat, realserverTun, webBackend } from 'lvsplay/roles';

export default playbook({
  name: 'LVS cluster bootstrap',
  plays: [
    {
      name: 'real servers',
      hosts: 'realservers',
      roles: [realserverDr(), realserverTun(), realserverNat({ tcpTimestamps: false, finTimeout: 30 }), webBackend()],
    },
    { name: 'director pair', hosts: 'directors', roles: [directorDrHa({ kinds: ['NAT', 'DR', 'TUN'] })] },
    { name: 'node-svc nodes', hosts: 'nodes', roles: [nodeSvc()] },
  ],
});
