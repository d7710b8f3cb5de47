import tomllib
from math import inf

import pytest

from loyaltylab.agents import (
    PopulationFileError,
    SegmentRules,
    calibrate,
    default_population,
    load_population,
    save_population,
)


@pytest.fixture(scope="module")
def calibration(cdnow):
    rules = SegmentRules(currency="USD", core_min_spend=100, potential_min_spend=40,
                         dormant_max_spend=20)
    return calibrate(cdnow, "rules", rules=rules, currency="USD")


def test_round_trip_of_a_calibrated_population(calibration, tmp_path):
    path = save_population(calibration.population, tmp_path / "pop.toml", fits=calibration,
                           source="data/cdnow_sample.csv",
                           notes=["returns: none in the log", *calibration.notes])
    back = load_population(path)
    # floats are written with repr, so they read back bit-identical
    assert back.model_dump() == calibration.population.model_dump()
    assert back.currency == "USD" and back.segment_rules == calibration.population.segment_rules
    data = tomllib.loads(path.read_text())
    assert data["method"] == "rules" and data["source"] == "data/cdnow_sample.csv"
    assert data["currency"] == "USD" and data["segment_rules"]["core_min_spend"] == 100
    assert data["notes"] == ["returns: none in the log", *calibration.notes]
    first = data["segments"][0]
    assert set(first["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert set(first["gamma_gamma"]) == {"p", "q", "gamma"}
    for seg, fit in zip(data["segments"], calibration.segments, strict=True):
        assert seg["share"] == fit.share or seg is data["segments"][-1]
        assert seg["log_likelihood"] == fit.log_likelihood
        assert seg["customers"] == fit.n_customers
        assert seg["notes"] == list(fit.notes)
    # a Calibration can be saved directly, with its fits
    again = save_population(calibration, tmp_path / "again.toml",
                            notes=["returns: none in the log"])
    assert again.read_text() == path.read_text().replace(
        'source = "data/cdnow_sample.csv"\n', "")


def test_round_trip_of_the_default_population(tmp_path):
    spec = default_population(5000)
    path = save_population(spec, tmp_path / "default.toml")
    assert load_population(path).model_dump() == spec.model_dump()
    assert "log_likelihood" not in path.read_text()


def test_json_populations_are_read_too(tmp_path):
    spec = default_population(10)
    path = tmp_path / "pop.json"
    path.write_text(spec.model_dump_json())
    assert load_population(path).model_dump() == spec.model_dump()


GOOD = """
size = 100
[[segments]]
name = "a \\"quoted\\" name"
share = 1.0
bgnbd = { r = 0.5, alpha = 4.0, a = 0.8, b = 2.4 }
gamma_gamma = { p = 6.0, q = 3.0, gamma = 15.0 }
"""


@pytest.mark.parametrize("edit,message", [
    (("r = 0.5", "r = -0.5"), "segments[0].bgnbd.r: Input should be greater than 0"),
    (("q = 3.0", "q = 1.0"), "segments[0].gamma_gamma.q: Input should be greater than 1"),
    (("gamma_gamma = { p = 6.0, q = 3.0, gamma = 15.0 }", ""),
     "segments[0].gamma_gamma: missing"),
    (("share = 1.0", "share = 0.9"), "shares: must sum to 1"),
    (("share = 1.0", "share = 1.0\ncolour = 'red'"), "unknown field(s) ['colour']"),
    (("alpha = 4.0", "alpha = 4.0, beta = 1.0"), "segments[0].bgnbd.beta: Extra inputs"),
    (("size = 100", "size = 0"), "size: Input should be greater than or equal to 1"),
    (("size = 100", ""), "size: missing"),
    (("share = 1.0", "share = 1.0\nredeem_propensity = 2.0"),
     "segments[0].redeem_propensity: Input should be less than or equal to 1"),
    (("size = 100", "size = 100\nsize = 200"), "not valid TOML"),
    (("size = 100", 'size = 100\ncurrency = "USD"\n[segment_rules]\ncurrency = "yuan"'),
     "segment_rules.currency: thresholds in 'yuan', amounts in 'USD'"),
    (("size = 100", 'size = 100\n[response]\n"coupon_use.attention" = { value = 2.0 }'),
     "response.coupon_use.attention.value: must be in [0, 1], got 2.0"),
    (("size = 100", 'size = 100\n[response]\n"coupon_use.notice" = { value = 0.1 }'),
     "response.coupon_use.notice: unknown coefficient; known: ["),
    (("size = 100", 'size = 100\n[response]\n"coupon_use.attention" = { se = 0.1 }'),
     "response.coupon_use.attention.value: expected a number, got None"),
])
def test_reading_validates_and_names_the_field(tmp_path, edit, message):
    path = tmp_path / "pop.toml"
    path.write_text(GOOD.replace(*edit))
    with pytest.raises(PopulationFileError) as info:
        load_population(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_good_file_and_missing_file(tmp_path):
    path = tmp_path / "pop.toml"
    path.write_text(GOOD)
    spec = load_population(path)
    assert spec.segments[0].name == 'a "quoted" name' and spec.size == 100
    with pytest.raises(PopulationFileError, match=r"nope\.toml: no such file"):
        load_population(tmp_path / "nope.toml")


def test_fitted_response_coefficients_round_trip(tmp_path):
    spec = load_population(_write(tmp_path, GOOD))
    response = {"coupon_use.attention": (0.12, 0.03), "coupon_trips.trip_rate": (0.3, inf)}
    path = save_population(spec, tmp_path / "fitted.toml", response=response)
    data = tomllib.loads(path.read_text())
    assert data["response"]["coupon_use.attention"] == {"value": 0.12, "se": 0.03}
    assert data["response"]["coupon_trips.trip_rate"]["se"] == inf
    back = load_population(path)
    behaviour = back.behaviours()[0]
    assert behaviour.coupons.coefficients.attention == 0.12
    trips = [t for t in behaviour.terms if t.name == "coupon_trips"]
    assert trips[0].coefficients.trip_rate == 0.3
    # the other coefficients keep their defaults
    assert behaviour.redemption.coefficients == spec.behaviours()[0].redemption.coefficients


def _write(folder, text):
    path = folder / "pop.toml"
    path.write_text(text)
    return path


def test_a_byte_order_mark_is_not_part_of_the_file(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_population(path).size == 100
