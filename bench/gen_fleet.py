#!/usr/bin/env python3
"""Writes a fleet file with N hosts: a router every 10th host (distinct /24 routes, exit node),
clients otherwise, some using an exit node, mixed auth-key sources. For bench/run-check-bench."""
import json
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
hosts = {}
routers = []
for i in range(n):
    name = f"h{i:05d}"
    if i % 10 == 0:
        routers.append(name)
        hosts[name] = {
            "roles": ["subnet-router", "exit-node"],
            "routes": [f"10.{(i // 10) // 256}.{(i // 10) % 256}.0/24"],
            "lan_interface": "enp5s0",
            "tags": ["tag:server"],
            "nftables": i % 20 == 0,
        }
    else:
        h = {"roles": ["client"], "tags": ["tag:laptop"]}
        if i % 3 == 0:
            h["exit_node"] = routers[-1]
        if i % 7 == 0:
            h["dns"] = {"mode": "resolved", "upstreams": ["1.1.1.1#cloudflare-dns.com"], "dns_over_tls": "opportunistic"}
        if i % 5 == 0:
            h["auth_key"] = {"agenix": "tailscale", "age_file": "../../secrets/tailscale.age"}
        hosts[name] = h
fleet = {
    "schema_version": 1,
    "nixos_release": "25.11",
    "defaults": {"auth_key": {"sops": "tailscale_preauth"}, "accept_routes": True},
    "hosts": hosts,
}
json.dump(fleet, sys.stdout, indent=2)
