# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: network_plan
short_description: Firewall rules and connectivity checks of a host, from the collection's port and endpoint tables
version_added: 0.1.0
description:
  - Derives, from the collection's port table (C(plugins/module_utils/network/ports.yml)) and endpoint
    table (C(plugins/module_utils/network/endpoints.yml)), what roles/network applies to a host with the
    given components. Every row of both tables names the Microsoft document it comes from.
  - V(firewall_rules) returns rules in the shape of community.windows.win_firewall_rule's options
    (name, group, description, direction, action, enabled, protocol, profiles, localport or
    remoteport, remoteip) plus C(flow), the row id. Inbound rules for every flow that ends at one of
    the components; outbound rules (with O(directions)) for every flow that starts there.
  - V(checks) returns the connectivity checks (internal flows to O(targets), and the endpoints with
    a concrete test host); V(untested) the flows and endpoints that cannot be tested, with the reason;
    V(flows) the table rows that apply.
author:
  - ems.enable contributors (@ems-enable)
options:
  _terms:
    description: What to return, one of V(firewall_rules), V(checks), V(untested), V(flows).
    required: true
    type: list
    elements: str
  components:
    description: Components of the host (aad_connect, adfs, wap, rms_connector, exchange_connector, domain_controller).
    type: list
    elements: str
    required: true
  features:
    description: Optional features that turn on the table's conditional rows (see docs/network.md).
    type: list
    elements: str
    default: []
  directions:
    description: Rule directions to return.
    type: list
    elements: str
    default: [in]
  peer_addresses:
    description: Per component, the addresses allowed as the remote end of its rules (default any).
    type: dict
    default: {}
  targets:
    description: Per component, the host names the checks connect to.
    type: dict
    default: {}
  proxy:
    description: Proxy URL; endpoint checks are marked to go through it.
    type: str
    default: ""
  prefix:
    description: Rule name prefix.
    type: str
    default: ems.enable
  group:
    description: Windows Firewall rule group.
    type: str
    default: ems.enable network
  profiles:
    description: Firewall profiles of the rules.
    type: list
    elements: str
    default: [domain, private, public]
"""

EXAMPLES = r"""
- name: The inbound rules of an AD FS server with certificate authentication
  ansible.builtin.debug:
    msg: "{{ query('ems.enable.network_plan', 'firewall_rules', components=['adfs'], features=['adfs_certificate_auth']) }}"

- name: What the sync server tests
  ansible.builtin.debug:
    msg: "{{ query('ems.enable.network_plan', 'checks', components=['aad_connect'], targets={'domain_controller': ['dc1.contoso.com']}) }}"
"""

RETURN = r"""
_raw:
  description: The rules, checks, untested items or flows.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.ems.enable.plugins.module_utils.network import tables as nt

display = Display()
WHAT = ("firewall_rules", "checks", "untested", "flows")


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1 or terms[0] not in WHAT:
            raise AnsibleLookupError("network_plan: give one of %s, not %r." % (", ".join(WHAT), terms))
        components = self.get_option("components")
        features = self.get_option("features")
        problems = nt.check_selection(components, features)
        directions = self.get_option("directions")
        problems.extend("direction %r is not one of in, out" % d for d in directions if d not in nt.DIRECTIONS)
        for option in ("peer_addresses", "targets"):
            for key in self.get_option(option):
                if key not in nt.ports_table()["components"]:
                    problems.append("%s: %r is not a component of the port table" % (option, key))
        if problems:
            raise AnsibleLookupError("network_plan: " + "; ".join(problems) + ".")
        what = terms[0]
        if what == "firewall_rules":
            rules = nt.firewall_rules(components, features, directions, self.get_option("peer_addresses"),
                                      self.get_option("prefix"), self.get_option("group"), self.get_option("profiles"))
            for line in nt.open_inbound_rules(rules, components, features):
                display.warning(line)  # one per rule left open to any address: loud, on every run
            return rules
        if what == "flows":
            return nt.flows(components, features)
        checks, untested = nt.connectivity_checks(components, features, self.get_option("targets"),
                                                  self.get_option("proxy") or None)
        return checks if what == "checks" else untested
