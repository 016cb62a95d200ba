"""Which forum engine made a page: from its generator tag, class names and URL shapes."""

from __future__ import annotations

import re

# Family → markers in the page's HTML or its URL, strongest first. The first family with a
# marker wins; a generator tag naming an engine wins over everything.
MARKERS: tuple[tuple[str, re.Pattern], ...] = (
    ("xenforo", re.compile(r'data-app="public"|\bXenForo\b|class="[^"]*\bp-body\b|'
                           r'id="XenForo"|/threads/[^"\s]*\.\d+', re.IGNORECASE)),
    ("invision", re.compile(r'\bipsLayout|\bipsType_|Invision Community|IP\.Board|'
                            r'\bcPost\b|ipb_var|showtopic=', re.IGNORECASE)),
    ("vbulletin", re.compile(r'vbulletin_css|\bvBulletin\b|showthread\.php|'
                             r'forumdisplay\.php|postbitlegacy|b-post__body', re.IGNORECASE)),
    ("smf", re.compile(r'\bsmf_|Simple Machines|index\.php\?topic=\d|index\.php\?board=\d|'
                       r'var smf_', re.IGNORECASE)),
    ("mybb", re.compile(r'\bMyBB\b|showthread\.php\?tid=|forumdisplay\.php\?fid=|'
                        r'mycode_quote|post_author', re.IGNORECASE)),
    ("fluxbb", re.compile(r'\bFluxBB\b|\bPunBB\b|id="punviewtopic"|id="punviewforum"|'
                          r'class="blockpost', re.IGNORECASE)),
    ("vanilla", re.compile(r'\bVanilla\b|/discussion/\d+|ItemComment|class="Discussion',
                           re.IGNORECASE)),
    ("ucoz", re.compile(r'\buCoz\b|ucoz\.|/forum/\d+-\d+-\d+|postTable|uSpoiler|'
                        r'\bu(?:Msg|Quote)\b', re.IGNORECASE)),
    ("phpbb", re.compile(r'\bphpBB\b|viewtopic\.php|viewforum\.php|memberlist\.php|'
                         r'id="phpbb"|class="postbody"', re.IGNORECASE)),
)
GENERATOR = re.compile(r'<meta[^>]+name=["\']generator["\'][^>]*content=["\']([^"\']+)',
                       re.IGNORECASE)


def detect_engine(page_html: str, url: str = "") -> str | None:
    """The engine family of a forum page (``phpbb``, ``xenforo``, ``vbulletin``, ``smf``,
    ``invision``, ``mybb``, ``fluxbb``, ``vanilla``, ``ucoz``), or ``None``."""
    generator = GENERATOR.search(page_html[:20000])
    if generator:
        for family, pattern in MARKERS:
            if pattern.search(generator.group(1)):
                return family
    for family, pattern in MARKERS:
        if pattern.search(page_html) or pattern.search(url):
            return family
    return None
