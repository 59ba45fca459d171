"""The published site's absolute URLs, and a sitemap that every build writes byte for byte.

* A Jinja filter, ``absolute``: ``alt.link | absolute`` is the root of a language of
  ``extra.alternate`` (a link relative to this site's root) as an absolute URL under
  ``site_url``. The hreflang links of each page (overrides/main.html) and the sitemap
  (overrides/sitemap.xml) append the page's URL to it.
* MkDocs gzips sitemap.xml with the build date as the gzip timestamp, so a build on
  another day gave another sitemap.xml.gz. This writes it again without a timestamp.
"""

import gzip
from pathlib import Path
from urllib.parse import urljoin


def on_env(env, config, files):
    env.filters["absolute"] = lambda link: urljoin(config.site_url or "", link)
    return env


def on_post_build(config):
    sitemap = Path(config.site_dir) / "sitemap.xml"
    if sitemap.is_file():
        gzipped = gzip.compress(sitemap.read_bytes(), mtime=0)
        sitemap.with_name("sitemap.xml.gz").write_bytes(gzipped)
