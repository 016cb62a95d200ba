"""Who is a customer: the one rule that keeps channels, news outlets, article authors and a
brand's own staff out of advocates, customers at risk and social NPS (their posts still
count as mentions in trends and share of voice).

What the store says about a post (its source kind, its kind, the forum's staff flag) is
read in SQL into ``BrandMention.customer`` (``insights.mention_facts.CUSTOMER``); the
brand's official accounts come from the catalogue.
"""

from __future__ import annotations

from collections.abc import Collection

from config.catalogue import Catalogue
from insights.mention_facts import BrandMention
from store.identity import author_id


def official_author_ids(catalogue: Catalogue) -> frozenset[str]:
    """Author ids of every brand's official accounts in the catalogue."""
    return frozenset(author_id(account.source, account.handle)
                     for brand in catalogue.brands for account in brand.official_accounts)


def is_customer(m: BrandMention, official: Collection[str] = ()) -> bool:
    """Whether the post's author speaks as a customer: a known author, not writing as a
    channel, outlet or staff, and not one of the ``official`` author ids."""
    return m.customer and m.author_id is not None and m.author_id not in official
