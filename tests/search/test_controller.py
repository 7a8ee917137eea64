"""The RL controller of `rl` and `enas`: a space as a sequence of masked decisions that always
decodes into a valid architecture, ENAS' squashed logits, the PPO-clipped REINFORCE loss and the
moving-average baseline on hand-computed cases, and a controller that learns a toy reward."""
from __future__ import annotations

import math
import random

import pytest
import torch

from nasc.compiler.fix import fix_spec
from nasc.compiler.sampling import sample_assignment
from nasc.compiler.space import choices
from nasc.runtime.strategies.controller import (Controller, EmaBaseline, Policy, clipped_loss,
                                                squash)
from nasc.runtime.strategies.decisions import (MonotoneWidths, NodeInputs, Pick, Products,
                                               decision_groups, decode, encode)

from kit.searchkit import make_ctx

# Every kind of choice: a node's operator, a searched cell (node 3 keeps 2 of 3 inputs), an
# interaction set of orders 2 and 3, a monotone MLP (first width 16 or 32 of layer 1 fixed
# below) with searched activations, and a free-width MLP.
EVERY_KIND = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  opset pair = { skip, fm, slp }
  x = pair(emb)
  cell c(x) {
    nodes 3
    edges pair
    keep 2
  }
  interactions cross(emb) {
    cycles 2
    survivors 4
    keep 3
  }
  mlp dnn(concat(flatten(c), flatten(cross))) {
    layers 3
    width { 8, 16, 32 }
    monotone
    act { relu, identity }
    layer 3 {
      width { 32, 16 }
    }
  }
  mlp free(dnn) {
    layers 2
    width { 4, 8 }
  }
  head ctr(free)
}

search rl {
  epochs 1
}
"""

SETTINGS = {"temperature": 5.0, "tanh_constant": 2.5, "controller_lr": 0.005,
            "baseline_decay": 0.9, "ppo_clip": 0.2, "ppo_epochs": 4, "entropy_weight": 1e-4,
            "controller_batch": 5}


def test_every_kind_of_choice_is_a_group_of_decisions_in_source_order(tmp_path, tiny_data):
    ctx = make_ctx(tmp_path, EVERY_KIND, tiny_data)
    groups = decision_groups(ctx.program, [f.name for f in tiny_data.schema.fields])
    kinds = [type(g) for g in groups]
    assert kinds == [Pick, NodeInputs, NodeInputs, NodeInputs, Products, MonotoneWidths,
                     Pick, Pick, Pick, Pick, Pick]
    node3 = groups[3]
    assert node3.sizes == (3 * 3, 3 * 3)  # 2 of inputs 0..2, each pair (input, operator)
    assert groups[4].sizes == (6 + 4,) * 3  # C(4, 2) pairs + C(4, 3) triples, keep 3
    labels = {label for g in groups for label in decode([g], [0] * len(g.sizes))}
    assert labels == {c.label for c in choices(ctx.program)}


def test_200_sampled_decision_sequences_are_valid_assignments(tmp_path, tiny_data):
    """Masks keep every draw inside the space: distinct inputs, distinct products, and widths
    that never increase (layer 3 allows only 32 or 16, so layers 1-2 can never take 8)."""
    ctx = make_ctx(tmp_path, EVERY_KIND, tiny_data)
    groups = decision_groups(ctx.program, [f.name for f in tiny_data.schema.fields])
    controller = Controller(groups, temperature=5.0, tanh_constant=2.5)
    generator = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(200):
        with torch.no_grad():
            tokens, log_prob, entropy = controller(generator=generator)
        assignment = decode(groups, tokens)
        fix_spec(ctx.spec, ctx.program, assignment, drop_search=True)  # raises when invalid
        widths = [assignment[f"dnn.layer{n}.width"] for n in (1, 2)]
        assert widths[0] >= widths[1] >= 16
        assert encode(groups, assignment) == sorted_within_groups(groups, tokens)
        assert float(log_prob) < 0 and float(entropy) > 0
        seen.add(str(sorted(assignment.items())))
    assert len(seen) > 150
    # and every uniform draw of the space is a sequence the controller can emit
    rng = random.Random(1)
    for _ in range(50):
        drawn = sample_assignment(ctx.program, rng, [f.name for f in tiny_data.schema.fields])
        with torch.no_grad():
            _, log_prob, _ = controller(encode(groups, drawn))
        assert decode(groups, encode(groups, drawn)) == drawn and math.isfinite(float(log_prob))


def sorted_within_groups(groups, tokens):
    """Node inputs and products are sets: decoding sorts them."""
    out, at = [], 0
    for g in groups:
        n = len(g.sizes)
        part = tokens[at:at + n]
        out += sorted(part) if g.shared else part
        at += n
    return out


def test_a_masked_decision_is_refused():
    group = Products("cross.tuples", (("a", "b"), ("a", "c"), ("b", "c")), keep=2)
    controller = Controller([group], 5.0, 2.5)
    with pytest.raises(ValueError, match="cannot be 1"):
        controller([1, 1])


def test_sampling_logits_are_tanh_of_logits_over_temperature():
    logits = torch.tensor([0.0, 5.0, -50.0, 1.0])
    assert torch.allclose(squash(logits, 5.0, 2.5),
                          2.5 * torch.tanh(torch.tensor([0.0, 1.0, -10.0, 0.2])))
    assert float(squash(torch.tensor(1e6), 5.0, 2.5)) == pytest.approx(2.5)


def test_the_ppo_clipped_loss_on_hand_computed_cases():
    old = math.log(0.2)
    new = torch.tensor(math.log(0.3), requires_grad=True)  # ratio 1.5
    # A > 0 and the ratio above 1 + 0.2: clipped, min(1.5 * 2, 1.2 * 2) = 2.4, no gradient
    loss = clipped_loss(new, old, 2.0, 0.2)
    loss.backward()
    assert float(loss.detach()) == pytest.approx(-2.4) and float(new.grad) == 0.0
    # A < 0: the unclipped term is the smaller, min(-3.0, -2.4) = -3.0, gradient -r A = 3.0
    new.grad = None
    loss = clipped_loss(new, old, -2.0, 0.2)
    loss.backward()
    assert float(loss.detach()) == pytest.approx(3.0) and float(new.grad) == pytest.approx(3.0)
    # inside the clip range it is REINFORCE's -r A: ratio 1.1, A = 0.5
    inside = torch.tensor(math.log(0.22), requires_grad=True)
    loss = clipped_loss(inside, old, 0.5, 0.2)
    loss.backward()
    assert float(loss.detach()) == pytest.approx(-0.55) and float(inside.grad) == pytest.approx(-0.55)


def test_the_baseline_is_a_moving_average_updated_before_subtracting():
    baseline = EmaBaseline(0.9)
    assert baseline.advantage(0.5) == 0.0 and baseline.value == 0.5  # the first reward starts it
    assert baseline.advantage(0.7) == pytest.approx(0.7 - 0.52)       # 0.9 * 0.5 + 0.1 * 0.7
    assert baseline.advantage(0.6) == pytest.approx(0.6 - 0.528)
    assert baseline.value == pytest.approx(0.528)


def test_the_controller_learns_a_toy_reward():
    """Reward 1 when option 2 of 4 is chosen: from a uniform start to a policy that picks it."""
    groups = [Pick("x", ("a", "b", "c", "d")), Pick("y", ("e", "f"))]
    policy = Policy(groups, {**SETTINGS, "controller_lr": 0.05}, seed=3)
    generator = torch.Generator().manual_seed(0)

    def chance() -> float:  # P(x = c), summed over y
        with torch.no_grad():
            return sum(math.exp(float(policy.controller([2, y])[1])) for y in (0, 1))

    before = chance()
    for _ in range(30):
        batch = []
        for _ in range(policy.batch):
            sample = policy.sample(generator)
            batch.append((sample.tokens, sample.log_prob, float(sample.assignment["x"] == "c")))
        policy.update(batch)
    after = chance()
    print(f"P(option 2): {before:.3f} before, {after:.3f} after 30 updates")
    assert 0.15 < before < 0.35 and after > 0.9


def test_policy_state_round_trips(tmp_path):
    groups = [Pick("x", ("a", "b", "c"))]
    one, two = Policy(groups, SETTINGS, seed=1), Policy(groups, SETTINGS, seed=2)
    one.update([([0], math.log(1 / 3), 1.0), ([1], math.log(1 / 3), 0.0)])
    torch.save(one.state_dict(), tmp_path / "p.pt")
    two.load_state_dict(torch.load(tmp_path / "p.pt"))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert [one.sample(g1).tokens for _ in range(5)] == [two.sample(g2).tokens for _ in range(5)]
    assert two.baseline.value == one.baseline.value
