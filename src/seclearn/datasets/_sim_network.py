"""The simulated enterprise network: addresses, per-host traits, office hours.

Layout (all internal addresses in 10.0.0.0/16):

* servers in 10.0.0.x: domain controller (DNS, Kerberos, LDAP, NTP), web proxy, SSH
  jump host, mail server, file server, public web server, monitoring host,
  asset-inventory scanner, and six Linux application servers;
* workstations in 10.0.1.x (more subnets if there are more than 250), desktops and
  laptops, a few of them used by administrators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seclearn.datasets._sim_flows import lognormal, public_ips

#: Relative activity by hour of day on a working day (peak 1.0).
# fmt: off
OFFICE_HOURS = np.array([
    0.03, 0.02, 0.02, 0.02, 0.02, 0.03, 0.08, 0.3, 0.75, 1.0, 1.0, 0.95,
    0.7, 0.85, 1.0, 0.95, 0.85, 0.6, 0.3, 0.15, 0.1, 0.08, 0.05, 0.04,
])
# fmt: on
WEEKEND_FACTOR = 0.1
SERVERS = {
    "dc": "10.0.0.10",
    "proxy": "10.0.0.20",
    "jump": "10.0.0.22",
    "mail": "10.0.0.25",
    "files": "10.0.0.30",
    "web": "10.0.0.40",
    "monitor": "10.0.0.50",
    "inventory": "10.0.0.60",
}
LINUX_SERVERS = np.array([f"10.0.0.{i}" for i in range(70, 76)], dtype=object)
PROXY_PORT = 3128


@dataclass(frozen=True)
class Network:
    """Addresses and per-host traits of one simulated enterprise."""

    start: float
    days: int
    hosts: np.ndarray  # workstation addresses
    laptop: np.ndarray  # bool per host
    admin: np.ndarray  # bool per host
    proxied: np.ndarray  # bool per host: web through the proxy
    rate_per_hour: np.ndarray  # host's flows in a peak office hour
    web_sites: np.ndarray
    web_weights: np.ndarray
    resolvers: np.ndarray
    ntp_pool: np.ndarray
    mail_peers: np.ndarray
    web_visitors: np.ndarray
    telemetry: np.ndarray
    backup_site: str

    @property
    def hours(self) -> int:
        return self.days * 24

    def office_curve(self, weekend_factor: float = WEEKEND_FACTOR) -> np.ndarray:
        """Relative activity per simulated hour (length ``days * 24``)."""
        hour = np.arange(self.hours)
        weekday = ((self.start // 86400 + 3 + hour // 24) % 7).astype(
            int
        )  # 1970-01-01 was a Thursday
        factor = np.where(weekday >= 5, weekend_factor, 1.0)
        return OFFICE_HOURS[hour % 24] * factor

    def is_weekday(self, day: int) -> bool:
        return int((self.start // 86400 + 3 + day) % 7) < 5


def build_network(rng: np.random.Generator, *, start: float, days: int, hosts: int) -> Network:
    """Draw the hosts, their traits, and the external address pools."""
    idx = np.arange(hosts)
    addresses = np.array([f"10.0.{1 + i // 250}.{10 + i % 250}" for i in idx], dtype=object)
    sites = public_ips(rng, 600)
    weights = 1.0 / np.arange(1, len(sites) + 1) ** 1.1  # a few sites get most visits
    return Network(
        start=start,
        days=days,
        hosts=addresses,
        laptop=rng.random(hosts) < 0.4,
        admin=idx < max(2, hosts // 20),
        proxied=rng.random(hosts) < 0.7,
        rate_per_hour=lognormal(rng, 45.0, 0.5, hosts, 5.0, 400.0),
        web_sites=sites,
        web_weights=weights / weights.sum(),
        resolvers=np.array(["8.8.8.8", "1.1.1.1", "9.9.9.9"], dtype=object),
        ntp_pool=public_ips(rng, 4),
        mail_peers=public_ips(rng, 150),
        web_visitors=public_ips(rng, 2500),
        telemetry=public_ips(rng, 10),
        backup_site=str(public_ips(rng, 1)[0]),
    )
