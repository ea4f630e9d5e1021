"""The commented example config written by ``govaudit init`` (tests validate it)."""

EXAMPLE_CONFIG = """\
# govaudit configuration (TOML). Every key is optional except site.urls.
# Reference: docs/config.md. Validate with: govaudit audit --config govaudit.toml --max-pages 1

data_dir = "govaudit-data"          # database and run files

[site]
name = "某市自然资源和规划局"
urls = ["https://www.example.gov.cn/"]   # the first URL is the homepage
# sitemap = "https://www.example.gov.cn/sitemap.xml"
extra_hosts = []                     # other hosts that count as this site
include_prefixes = []                # e.g. ["/zwgk/"] to crawl only part of the site
exclude = ['\\.(?:mp4|iso)$', '/search\\?']   # regexes of URLs never crawled

[crawl]
max_pages = 5000
max_depth = 12
max_query_variants = 30              # distinct ?query strings per path (ends calendar traps)
concurrency_per_host = 4
autothrottle = true
obey_robots = true                   # a bureau auditing its own site may set false
contact = "xxzx@example.gov.cn"      # added to the User-Agent
timeout = 15                         # seconds; the inspection indicators' figure
retries = 1
check_external = true
verify_tls = true                    # expired/self-signed certificates are tls_error

[crawl.render]                       # Chromium rendering for pages built by JavaScript
patterns = []                        # regexes of URLs always rendered
auto = true

[dns]
resolve = []                         # ["www.example.gov.cn:443:10.0.0.5"] as curl --resolve
# server = "127.0.0.1:53"

[plugins]
# enabled = ["links", "columns", "disclosure_dates", "identity", "accessibility", "ipv6"]

# [plugins.columns]                  # each plugin's options: see docs/rules.md

[units]
default = "信息中心"

[[units.unit]]
name = "综合组"
emails = ["zhb@example.gov.cn"]

[[units.unit]]
name = "信息中心"
emails = ["xxzx@example.gov.cn"]

[[units.map]]                        # pages under a prefix belong to a unit
prefix = "/zwgk/hygk/"
unit = "综合组"

[report]
deadline_days = { error = 5, warning = 15, info = 30 }

[mail]
# host = "smtp.example.gov.cn"
# port = 465
# security = "ssl"                   # none | starttls | ssl
# user = "govaudit@example.gov.cn"
# password_env = "GOVAUDIT_SMTP_PASSWORD"   # the password itself never goes in this file
sender = "govaudit@example.gov.cn"
info_centre = ["xxzx@example.gov.cn"]

[[schedule]]
name = "weekly-full"
cron = "0 2 * * 1"                   # Mondays 02:00

[[schedule]]
name = "daily-links"
cron = "30 6 * * *"
plugins = ["links"]
max_pages = 300

[serve]
host = "127.0.0.1"
port = 8600
# token_env = "GOVAUDIT_TOKEN"       # required when host is not loopback
"""
