import textwrap

import pytest

from config.catalogue import load_catalogue
from config.yaml_nodes import ConfigError

VALID = """\
industry: telecom
brands:
  - id: volna
    name: Volna
    aliases: [Volna, Волна]
    ambiguous: [Волна]
    context: [оператор, тариф]
    products:
      - id: volna-home
        name: Volna Home
        aliases: [Volna Home]
competitors:
  - id: telenova
    name: Telenova
    aliases: [Telenova, Теленова]
touchpoints:
  - id: billing
    name: Billing
    description: Bills and refunds.
    cues:
      ru: [счёт, возврат]
      uk: [рахунок]
      en: [refund]
"""


def _write(tmp_path, text):
    path = tmp_path / "catalogue.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _error(tmp_path, text) -> str:
    with pytest.raises(ConfigError) as error:
        load_catalogue(_write(tmp_path, text))
    return str(error.value)


def test_shipped_catalogue_is_valid_and_complete():
    catalogue = load_catalogue()
    assert [b.id for b in catalogue.own_brands] == ["volna"]
    assert [b.id for b in catalogue.competitors] == ["telenova"]
    assert len(catalogue.touchpoints) == 12
    for touchpoint in catalogue.touchpoints:
        assert set(touchpoint.cues) == {"ru", "uk", "en"}, touchpoint.id
        assert set(touchpoint.examples) == {"ru", "uk", "en"}, touchpoint.id
        assert touchpoint.description


def test_valid_catalogue_loads(tmp_path):
    catalogue = load_catalogue(_write(tmp_path, VALID))
    volna = catalogue.brand("volna")
    assert volna.own and volna.ambiguous == ("Волна",)
    assert volna.products[0].aliases == ("Volna Home",)
    assert catalogue.touchpoint("billing").cues["uk"] == ("рахунок",)
    assert catalogue.touchpoint("billing").examples == {}
    assert len(catalogue.fingerprint) == 16
    assert load_catalogue(_write(tmp_path, VALID.replace("Bills and", "Invoices and"))
                          ).fingerprint != catalogue.fingerprint


def test_bad_yaml_names_the_line(tmp_path):
    message = _error(tmp_path, "industry: telecom\nbrands: [\n  - id: x\n")
    assert message.startswith("catalogue.yaml, line 3: not valid YAML:")


def test_missing_field_names_line_and_field(tmp_path):
    text = VALID.replace("    name: Telenova\n", "")
    assert _error(tmp_path, text) == (
        "catalogue.yaml, line 13: competitors[0]: missing required field 'name'"
    )


def test_duplicate_alias_across_brands(tmp_path):
    text = VALID.replace("aliases: [Telenova, Теленова]", "aliases: [Telenova, волна]")
    assert _error(tmp_path, text) == (
        "catalogue.yaml, line 15: competitors[0].aliases[1]: "
        "alias 'волна' is already used by 'volna' (line 5)"
    )


def test_unknown_field_lists_the_allowed_ones(tmp_path):
    text = VALID.replace("    name: Volna\n", "    name: Volna\n    alias: [x]\n")
    assert _error(tmp_path, text) == (
        "catalogue.yaml, line 5: brands[0]: unknown field 'alias' "
        "(expected: aliases, ambiguous, context, id, name, official_accounts, products)"
    )


def test_ambiguous_alias_must_be_an_alias_and_needs_context(tmp_path):
    text = VALID.replace("ambiguous: [Волна]", "ambiguous: [Вольна]")
    assert _error(tmp_path, text) == (
        "catalogue.yaml, line 6: brands[0].ambiguous[0]: 'Вольна' is not one of the brand's aliases"
    )
    text = VALID.replace("    context: [оператор, тариф]\n", "")
    assert _error(tmp_path, text) == (
        "catalogue.yaml, line 3: brands[0]: ambiguous aliases need 'context' words"
    )


def test_wrong_types_and_unknown_language(tmp_path):
    assert _error(tmp_path, VALID.replace("aliases: [Volna, Волна]", "aliases: Volna")) == (
        "catalogue.yaml, line 5: brands[0].aliases: expected a list"
    )
    assert _error(tmp_path, VALID.replace("      en: [refund]", "      de: [Rückerstattung]")) == (
        "catalogue.yaml, line 23: touchpoints[0].cues: unknown field 'de' (expected: en, ru, uk)"
    )


def test_missing_file_and_empty_file(tmp_path):
    assert _error(tmp_path, "") == "catalogue.yaml: the file is empty"
    with pytest.raises(ConfigError, match="file not found"):
        load_catalogue(tmp_path / "nope.yaml")


OFFICIAL = VALID.replace("    context: [оператор, тариф]\n", """    context: [оператор, тариф]
    official_accounts:
      - {source: forum, handle: Volna_Support}
""")


def test_official_accounts_load_and_do_not_change_the_fingerprint(tmp_path):
    catalogue = load_catalogue(_write(tmp_path, OFFICIAL))
    (account,) = catalogue.brand("volna").official_accounts
    assert (account.source, account.handle) == ("forum", "Volna_Support")
    assert catalogue.brand("telenova").official_accounts == ()
    # who the brand's accounts are does not change tagging: no re-tag for it
    assert catalogue.fingerprint == load_catalogue(_write(tmp_path, VALID)).fingerprint


@pytest.mark.parametrize(("entry", "message"), [
    ("- Volna_Support", "brands[0].official_accounts[0]: expected {source: <source id>, "
                        "handle: <handle>}"),
    ("- {handle: Volna_Support}", "brands[0].official_accounts[0]: missing required field "
                                  "'source'"),
    ("- {source: forum, handle: ''}", "brands[0].official_accounts[0].handle: expected a "
                                      "non-empty text value"),
    ("- {source: forum, handle: x, role: staff}", "unknown field 'role'"),
])
def test_bad_official_accounts_name_the_entry(tmp_path, entry, message):
    text = OFFICIAL.replace("- {source: forum, handle: Volna_Support}", entry)
    assert message in _error(tmp_path, text)
    assert "line 9" in _error(tmp_path, text)


def test_official_accounts_must_be_a_list(tmp_path):
    text = OFFICIAL.replace("- {source: forum, handle: Volna_Support}", "").replace(
        "official_accounts:\n      \n", "official_accounts: Volna_Support\n")
    assert "brands[0].official_accounts: expected a list" in _error(tmp_path, text)
