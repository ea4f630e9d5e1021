"""The ipv6 plugin's options (``[plugins.ipv6]`` in the config), validated by pydantic. A module
of their own so the plugin and its check mixins can all name them without importing each
other; knows nothing of DNS, probes or findings.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class IPv6Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(5.0, gt=0, description="Seconds per connect/read of one probe")
    dns_timeout: float = Field(
        3.0,
        gt=0,
        description="Seconds per query to a name server over IPv6 (and per lookup when the "
        "run has no shared resolver)",
    )
    ports: list[int] = Field(
        default_factory=lambda: [80, 443],
        description="Ports probed over IPv6 when they accept TCP over IPv4 (the homepage URL's "
        "own port is always probed)",
    )
    similarity_threshold: float = Field(
        0.9, ge=0, le=1, description="Minimum IPv4/IPv6 homepage content similarity"
    )
    min_ipv6_nameservers: int = Field(
        2, ge=0, description="Name servers that must answer over IPv6"
    )
    nameserver_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port the name servers are queried on; default 53, or the port of "
        "dns.server when that is not 53 (a loopback/staging DNS server)",
    )
    check_links: bool = Field(True, description="Measure 二级/三级 link support rates")
    link_min_similarity: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A linked HTML page whose IPv6 answer shares less than this (estimated "
        "Jaccard of its tags and text) with the IPv4 answer does not support IPv6",
    )
    level2_target: float = Field(0.95, ge=0, le=1, description="Target share of 二级 links")
    level3_target: float = Field(0.90, ge=0, le=1, description="Target share of 三级 links")
    include_external: bool = Field(True, description="Count links to other sites too")
    include_resources: bool = Field(
        True, description="Count embedded resources (img, script, link, iframe …) too"
    )
    max_links_per_level: int = Field(
        2000, ge=1, description="At most this many URLs per level (first in crawl order)"
    )
    workers: int = Field(8, ge=1, le=64, description="Concurrent probes")
    max_redirects: int = Field(5, ge=0, le=20)
    verify_tls: bool = Field(True, description="Verify HTTPS certificates against the host name")
    ca_file: str | None = Field(
        None, description="PEM file of extra trusted CAs (an internal CA); default: the system's"
    )
    max_failing_listed: int = Field(
        50, ge=1, description="Failing URLs listed in a finding's evidence"
    )
