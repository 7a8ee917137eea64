"""`head next_item { projection none }`: SASRec scores item i by e_i^T h, with no learned W between
the user vector and the item table (Kang & McAuley's and S3-Rec's code); `linear` (the default,
AMEIR eq. 7) keeps W."""
from __future__ import annotations

import pytest
import torch

from nasc.compiler.frontend import compile_text
from nasc.errors import SpecError
from nasc.runtime.constructs import next_item_head
from nasc.runtime.data.sequences import load_next_item
from nasc.runtime.model import build_fixed
from nasc.runtime.seq2seq import Seq2SeqObjective
from nasc.runtime.shapes import Shape
from nasc.runtime.train import TrainConfig
from kit.retrievalkit import IDENTITY_MODEL

NONE = IDENTITY_MODEL.replace("    items seq\n", "    items seq\n    projection none\n")


def test_without_projection_the_user_vector_is_h_itself():
    head = next_item_head([Shape("vector", 0, 8)], Shape("sequence", 1, 8), projection="none")
    h = torch.randn(3, 8)
    assert torch.equal(head(h), h) and not list(head.parameters())
    linear = next_item_head([Shape("vector", 0, 8)], Shape("sequence", 1, 8))
    assert isinstance(linear, torch.nn.Linear) and linear.weight.shape == (8, 8)


def test_without_projection_widths_must_match():
    with pytest.raises(ValueError, match="width 16 and an item embedding 8"):
        next_item_head([Shape("vector", 0, 16)], Shape("sequence", 2, 16), projection="none")


def test_seq2seq_loss_by_hand_scores_e_i_dot_h(tmp_path):
    """The loss of test_seq2seq's hand case, with no W at all (there W was set to I)."""
    log = tmp_path / "log.txt"
    log.write_text("1 1 2 3 4 5\n2 6 7 8 9 10\n")
    ds = load_next_item(log, max_len=4)
    program = compile_text(NONE + "\ntrain {\n  objective seq2seq\n}\n", "m.nas")[1]
    model = build_fixed(program, ds.schema)
    assert not hasattr(model.head, "weight")
    with torch.no_grad():
        model.seq.fields.table.weight[:6] = torch.tensor(
            [[3.0, 3.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0], [2.0, 0.0]])
    task = Seq2SeqObjective(ds, TrainConfig(objective="seq2seq", eval_negatives=3),
                            torch.device("cpu"))
    first = task.rows.subset(torch.tensor([0])).columns
    batch = {**first, "next_items": torch.tensor([[5, 5, 2, 3]]),
             "negatives": torch.tensor([[5, 5, 4, 4]])}
    loss, positions = task.loss(model, batch)
    softplus = torch.nn.functional.softplus
    want = (softplus(torch.tensor(0.0)) + softplus(torch.tensor(-1.0)) * 2
            + softplus(torch.tensor(0.0))) / 2
    assert positions == 2
    assert float(loss.detach()) == pytest.approx(float(want), rel=1e-6)


@pytest.mark.parametrize("body", ["    projection none\n", "    items seq\n    projection none\n"])
def test_projection_belongs_to_next_item_heads(body):
    spec = ("model m {\n  input fields: categorical\n  emb = embed(fields, dim=4)\n"
            f"  head ctr(flatten(emb)) {{\n{body}  }}\n}}\n")
    with pytest.raises(SpecError, match="is only for `head next_item`"):
        compile_text(spec, "m.nas")
