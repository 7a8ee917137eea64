"""`objective seq2seq` is refused, at the setting, for models that cannot train per position."""
from __future__ import annotations

import pytest

from nasc.compiler.frontend import load
from nasc.compiler.operators import OPERATORS
from nasc.compiler.seq2seq_fit import CAUSAL, LOOKAHEAD, POSITIONWISE, WINDOWED
from nasc.errors import SpecError
from kit.retrievalkit import SASREC_LIKE

OBJECTIVE_LINE = SASREC_LIKE.splitlines().index("  objective seq2seq") + 1


def _errors(tmp_path, text) -> str:
    spec = tmp_path / "spec.nas"
    spec.write_text(text)
    with pytest.raises(SpecError) as err:
        load(str(spec))
    return str(err.value)


def test_a_causal_model_with_last_is_accepted(tmp_path):
    spec = tmp_path / "ok.nas"
    spec.write_text(SASREC_LIKE)
    train = load(str(spec))[2].train
    assert train["objective"] == "seq2seq" and train["eval_negatives"] == 99
    assert train["monitor"] == "ndcg10"


@pytest.mark.parametrize("change, words", [
    (("transformer(seq, heads=1), heads=1)", "transformer(seq, heads=1), heads=1, causal=false)"),
     "`transformer(causal=false)` in node `h` lets position t see later positions"),
    (("last(h)", "mean_pool(h)"), "this head's input is not `last(S)`"),
])
def test_models_that_cannot_train_per_position_are_refused_at_the_setting(tmp_path, change, words):
    errors = _errors(tmp_path, SASREC_LIKE.replace(*change))
    assert f"spec.nas:{OBJECTIVE_LINE}:3: error:" in errors and words in errors


def test_a_blocks_choice_with_a_look_ahead_layer_is_refused(tmp_path):
    text = SASREC_LIKE.replace(
        "  h = transformer(transformer(seq, heads=1), heads=1)\n",
        "  blocks h(seq) {\n    depth 1\n    layer bigru\n  }\n")
    assert "`bigru` in blocks `h`" in _errors(tmp_path, text)
    assert _errors(tmp_path, text.replace("layer bigru", "layer { conv(kernel=1), conv }")) \
        .count("`conv` in blocks `h`") == 1  # kernel 1 is position-wise, kernel 3 is not


def test_a_blocks_choice_of_causal_layers_is_accepted(tmp_path):
    """AMEIR's layer set in its causal form (AMEIR-A trained as SASRec)."""
    layers = ("{ conv(kernel=3, causal=true), dilated_conv(kernel=5, causal=true), "
              "avg_pool(kernel=3, causal=true), max_pool(kernel=3, causal=true), gru, "
              "causal_attention(heads=2), zero }")
    text = SASREC_LIKE.replace(
        "  h = transformer(transformer(seq, heads=1), heads=1)\n",
        f"  blocks h(seq) {{\n    depth 1\n    layer {layers}\n  }}\n")
    spec = tmp_path / "causal.nas"
    spec.write_text(text)
    assert load(str(spec))[2].train["objective"] == "seq2seq"
    assert "`max_pool` in blocks `h`" in _errors(
        tmp_path, text.replace("max_pool(kernel=3, causal=true)", "max_pool(kernel=3)"))


def test_a_ctr_head_and_a_search_are_refused(tmp_path):
    ctr = SASREC_LIKE.replace("  head next_item(user) {\n    items seq\n  }\n",
                              "  head ctr(user)\n")
    ctr = ctr.replace("  eval_negatives 99\n  monitor ndcg10\n", "")
    assert "`objective` is a setting of `head next_item` models; this one has `head ctr`" \
        in _errors(tmp_path, ctr)
    searched = SASREC_LIKE.replace(
        "  h = transformer(transformer(seq, heads=1), heads=1)\n",
        "  blocks h(seq) {\n    depth 2\n    layer { gru, conv(kernel=3, causal=true), bigru }\n"
        "  }\n") + "\nsearch oneshot_random {\n  children 2\n}\n"
    assert "`bigru` in blocks `h`" in _errors(tmp_path, searched)  # one point looks ahead


def test_a_search_over_a_causal_space_may_retrain_with_seq2seq(tmp_path):
    """The supernet ranks with last_state; arch.nas keeps the train block, so it retrains with
    seq2seq (tests/search/test_next_item_search.py runs it)."""
    spec = tmp_path / "causal_search.nas"
    spec.write_text(SASREC_LIKE.replace(
        "  h = transformer(transformer(seq, heads=1), heads=1)\n",
        "  blocks h(seq) {\n    depth 2\n    layer { gru, conv(kernel=3, causal=true) }\n"
        "  }\n") + "\nsearch oneshot_random {\n  children 2\n}\n")
    _, _, program = load(str(spec))
    assert program.train["objective"] == "seq2seq" and program.strategy.name == "oneshot_random"


def test_every_operator_that_makes_a_sequence_is_classified():
    makes_sequences = {name for name, sig in OPERATORS.items()
                       if any("sequence" in kinds for kinds in sig.inputs)
                       and sig.shape == "same"} | {"embed"}
    classified = POSITIONWISE | CAUSAL | WINDOWED | LOOKAHEAD | {"transformer"}
    assert makes_sequences <= classified, makes_sequences - classified
    groups = [POSITIONWISE, CAUSAL, WINDOWED, LOOKAHEAD]
    assert all(not a & b for i, a in enumerate(groups) for b in groups[i + 1:])


# `objective cloze` (BERT4Rec) predicts masked items at their own positions: the sequence may
# look both ways, but the head must still read `last(S)`.
CLOZE = SASREC_LIKE.replace("objective seq2seq", "objective cloze").replace(
    "transformer(seq, heads=1), heads=1)", "transformer(seq, heads=1, causal=false), heads=1)")


def test_cloze_accepts_a_bidirectional_sequence_and_its_mask_prob(tmp_path):
    spec = tmp_path / "ok.nas"
    spec.write_text(CLOZE.replace("  objective cloze\n", "  objective cloze\n  mask_prob 0.6\n"))
    train = load(str(spec))[2].train
    assert (train["objective"], train["mask_prob"]) == ("cloze", 0.6)


@pytest.mark.parametrize("text, words", [
    (CLOZE.replace("last(h)", "mean_pool(h)"),
     "`objective cloze` scores the masked items at every position of the sequence the head pools"),
    (CLOZE + "\nsearch random {\n  children 2\n}\n",
     "`objective cloze` trains fixed models"),
])
def test_cloze_is_refused_at_the_setting_without_last_or_in_a_search(tmp_path, text, words):
    if "search random" in text:  # a search needs a choice
        text = text.replace("heads=1, causal=false)", "heads={1, 2}, causal=false)")
    errors = _errors(tmp_path, text)
    assert f"spec.nas:{OBJECTIVE_LINE}:3: error:" in errors and words in errors


def test_mask_prob_belongs_to_the_cloze_objective(tmp_path):
    text = SASREC_LIKE.replace("  objective seq2seq\n", "  objective seq2seq\n  mask_prob 0.5\n")
    errors = _errors(tmp_path, text)
    assert f"spec.nas:{OBJECTIVE_LINE + 1}:3: error: `mask_prob` only applies to `objective " \
           "cloze`" in errors and "write `objective cloze`" in errors
    errors = _errors(tmp_path, CLOZE.replace("  objective cloze\n", "  objective cloze\n"
                                                                     "  mask_prob 0\n"))
    assert "mask_prob" in errors
