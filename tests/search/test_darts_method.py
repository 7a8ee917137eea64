"""The DARTS method as AutoPI states it (§4.3-4.4): temperature (eq. 9), noisy skip (§4.4.2),
relaxation (eq. 5-6), bi-level updates (eq. 7, first and second order) and the top-k
discretisation from distinct inputs (§4.4.1).

Every expected value is computed here from the paper's formulas, not read from the code.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch.func import functional_call

from nasc.compiler.frontend import load
from nasc.runtime.choices import CellNode, OneOf
from nasc.runtime.model import building, generate, load_generated
from nasc.runtime.ops.autopi import Skip
from nasc.runtime.strategies import darts
from nasc.runtime.strategies.darts import Darts, discretize, temperature

from kit.searchkit import cell3_spec, make_ctx, write_spec

OPS = ("skip", "fm", "slp")


# ------------------------------------------------------------------------------ helpers
def supernet(tmp_path, dataset, spec_text=None):
    """The generated supernet of the 3-node cell spec, built on the dataset's schema."""
    path = write_spec(tmp_path, spec_text or cell3_spec())
    text, _, program = load(path)
    cls = load_generated(generate(program, text, str(path), tmp_path / "supernet.py"))
    torch.manual_seed(0)
    with building(program, dataset.schema):
        net = cls(dataset.schema)
    return net


def batch_of(table, start, size):
    return {k: v[start:start + size] for k, v in table.columns.items()}


def params_of(net, names):
    return {n: p.detach().clone() for n, p in net.named_parameters() if n in names}


def arch_names(net):
    ids = {id(p) for p in net.arch_parameters()}
    return {n for n, p in net.named_parameters() if id(p) in ids}


def weight_names(net):
    ids = {id(p) for p in net.weight_parameters()}
    return {n for n, p in net.named_parameters() if id(p) in ids}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def delta(after: dict, before: dict) -> dict:
    return {k: after[k] - before[k] for k in before}


def expected_topk(node: CellNode, alpha: dict[int, list[float]], beta: list[float]):
    """§4.4.1 from scratch: all (input, operator) pairs by strength softmax(a)_o * softmax(b)_i,
    strongest first, an input taken at most once, until keep pairs are chosen."""
    b = torch.softmax(torch.tensor(beta), 0)
    pairs = []
    for k, i in enumerate(node.sources):
        a = torch.softmax(torch.tensor(alpha[i]), 0)
        for o, op in enumerate(OPS):
            pairs.append((float(a[o] * b[k]), i, op))
    pairs.sort(key=lambda t: -t[0])
    chosen, used = [], set()
    for _, i, op in pairs:
        if i not in used and len(chosen) < node.keep:
            chosen.append((i, op))
            used.add(i)
    return tuple(sorted(chosen)), pairs


def set_arch(net, alphas: dict[str, list[float]], betas: dict[str, list[float]]):
    """alphas by edge label `c.edgeI_J`, betas by node label."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, OneOf) and m.label in alphas:
                m.alpha.copy_(torch.tensor(alphas[m.label]))
            elif isinstance(m, CellNode) and m.label in betas:
                m.beta.copy_(torch.tensor(betas[m.label]))


# ------------------------------------------------------------------------------ eq. 9
def test_temperature_follows_eq9_for_every_epoch():
    T = 50
    for t in range(1, T + 1):
        want = (1 + math.log(T)) / (1 + math.log(t))
        assert temperature(T, t, "log") == pytest.approx(want, rel=1e-12)
    assert temperature(T, 1, "log") == pytest.approx(1 + math.log(50))
    assert temperature(T, T, "log") == pytest.approx(1.0)
    taus = [temperature(T, t, "log") for t in range(1, T + 1)]
    assert all(a > b for a, b in zip(taus, taus[1:]))  # annealed: strictly decreasing
    assert all(temperature(T, t, "none") == 1.0 for t in range(1, T + 1))


# ------------------------------------------------------------------------------ §4.4.2 noisy skip
def test_noisy_skip_adds_gaussian_noise_scaled_by_std_of_input():
    lam = 0.03
    torch.manual_seed(1)
    x = 5.0 + 3.0 * torch.randn(200, 1000)  # 200k elements, std ~ 3, mean far from 0
    skip = Skip()
    skip.noise = lam
    skip.generator = torch.Generator().manual_seed(11)
    skip.train()
    out = skip(x)
    noise = (out - x).double()
    sigma = lam * float(x.std())
    assert float(noise.std()) == pytest.approx(sigma, rel=0.03)
    assert abs(float(noise.mean())) < 5 * sigma / math.sqrt(x.numel())
    # the same seed draws the same noise; another seed other noise
    skip.generator = torch.Generator().manual_seed(11)
    assert torch.equal(skip(x), out)
    skip.generator = torch.Generator().manual_seed(12)
    assert not torch.equal(skip(x), out)
    # evaluation: the identity, bit for bit
    skip.eval()
    assert torch.equal(skip(x), x)
    # no noise configured: the identity in training too
    skip.train()
    skip.noise = 0.0
    assert torch.equal(skip(x), x)


def test_noise_scale_is_not_learned_through():
    """The noise is a perturbation: d out / d x is the identity (sigma is detached)."""
    skip = Skip()
    skip.noise = 0.5
    skip.generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, 3, requires_grad=True)
    skip(x).sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_darts_turns_noise_and_temperature_on_while_training_and_noise_off_to_evaluate(
        tmp_path, tiny_data, monkeypatch):
    lam, T = 0.05, 3
    ctx = make_ctx(tmp_path, cell3_spec(epochs=T, noisy=lam), tiny_data)
    seen_train, seen_eval = [], []

    def skips(net):
        return [m for m in net.modules() if isinstance(m, Skip)]

    def taus(net):
        return {float(m.tau) for m in net.modules() if isinstance(m, (OneOf, CellNode))}

    real_arch_step, real_evaluate = Darts.arch_step, darts.evaluate

    def arch_step(self, arch_batch, train_batch):
        s = skips(self.net)
        seen_train.append({"noise": {m.noise for m in s}, "gen": all(m.generator is not None for m in s),
                           "training": self.net.training, "tau": taus(self.net), "n": len(s)})
        return real_arch_step(self, arch_batch, train_batch)

    def evaluate(net, table, *args, **kwargs):
        seen_eval.append({"noise": {m.noise for m in skips(net)}})
        return real_evaluate(net, table, *args, **kwargs)

    monkeypatch.setattr(Darts, "arch_step", arch_step)
    monkeypatch.setattr(darts, "evaluate", evaluate)
    search = Darts(ctx)
    search.run()

    # one Skip per edge of the cell: 1 + 2 + 3 edges
    assert seen_train and all(r["n"] == 6 for r in seen_train)
    assert all(r["noise"] == {lam} and r["gen"] and r["training"] for r in seen_train)
    assert seen_eval and all(r["noise"] == {0.0} for r in seen_eval)
    assert {m.noise for m in skips(search.net)} == {0.0}
    # the temperature of each epoch is on every relaxed module, and recorded in the history
    steps = len(seen_train) // T
    for t in range(1, T + 1):
        want = (1 + math.log(T)) / (1 + math.log(t))
        for r in seen_train[(t - 1) * steps: t * steps]:
            assert len(r["tau"]) == 1 and r["tau"].pop() == pytest.approx(want)
        assert search.history[t - 1]["tau"] == pytest.approx(want)


# ------------------------------------------------------------------------------ §4.4.1
def test_discretize_keeps_top2_by_strength_from_distinct_inputs(tmp_path, tiny_data):
    net = supernet(tmp_path, tiny_data)
    assert net.c_node3.edges["0"].options == list(OPS)
    alphas = {
        "c.edge0_1": [0.0, 1.0, 0.5],
        "c.edge0_2": [0.2, 0.1, 1.0],
        "c.edge1_2": [2.0, 0.0, 0.0],
        # node 3: input 0's fm and slp are the two strongest pairs overall; input 1 has the
        # larger beta but a flat alpha, input 2 the smaller beta and a peaked alpha
        "c.edge0_3": [0.0, 3.0, 2.9],
        "c.edge1_3": [0.0, 0.0, 0.01],
        "c.edge2_3": [0.0, 0.0, 4.0],
    }
    betas = {"c.node1": [0.0], "c.node2": [0.0, 0.3], "c.node3": [2.0, 0.6, 0.0]}
    set_arch(net, alphas, betas)
    nodes = {n.label: n for n in net.modules() if isinstance(n, CellNode)}
    expected = {}
    for label, node in nodes.items():
        j = int(label[-1])
        alpha = {i: alphas[f"c.edge{i}_{j}"] for i in node.sources}
        expected[label], pairs = expected_topk(node, alpha, betas[label])
        if label == "c.node3":  # the case is the one intended: the 2nd strongest is input 0's too
            assert [p[1:] for p in pairs[:2]] == [(0, "fm"), (0, "slp")]
            assert expected[label] == ((0, "fm"), (2, "slp"))
            assert betas[label][1] > betas[label][2]  # so beta alone would keep input 1
    assert expected["c.node1"] == ((0, "fm"),)
    assert discretize(net) == expected


def test_search_returns_the_discretised_best_epoch_not_the_last(tmp_path, tiny_data, monkeypatch):
    """§4.4: the alpha/beta of the epoch with the best validation logloss are discretised."""
    spec = cell3_spec(epochs=3).replace("  noisy_skip", "  arch adam(lr=0.3)\n  noisy_skip")
    ctx = make_ctx(tmp_path, spec, tiny_data)
    fake = iter([0.70, 0.50, 0.60])  # epoch 2 is the best
    monkeypatch.setattr(darts, "evaluate", lambda *a, **k: {"auc": 0.6, "logloss": next(fake)})
    search = Darts(ctx)
    found = search.run()
    assert ctx.record["best_epoch"] == 2
    arch = [h["arch"] for h in search.history]  # softmax(alpha), softmax(beta) after each epoch
    assert arch[1] != arch[2]  # the architecture weights moved in the last epoch

    def topk_from_softmaxes(state):
        out = {}
        for node in (n for n in search.net.modules() if isinstance(n, CellNode)):
            j, b = node.label[-1], state[f"{node.label}.beta"]
            pairs = sorted(((state[f"c.edge{i}_{j}.alpha"][o] * b[k], i, op)
                            for k, i in enumerate(node.sources) for o, op in enumerate(OPS)),
                           key=lambda t: -t[0])
            chosen, used = [], set()
            for _, i, op in pairs:
                if i not in used and len(chosen) < node.keep:
                    chosen.append((i, op))
                    used.add(i)
            out[node.label] = tuple(sorted(chosen))
        return out

    assert found == topk_from_softmaxes(arch[1])
    assert ctx.record["arch"] == arch[1]


@pytest.mark.parametrize("monitor, best_epoch", [("logloss", 2), ("auc", 3)])
def test_the_monitor_setting_picks_the_epoch_kept(tmp_path, tiny_data, monkeypatch, monitor,
                                                  best_epoch):
    """`monitor auc` keeps the epoch of the best validation AUC, `monitor logloss` the lowest
    logloss; here they disagree (epoch 2 has the lowest logloss, epoch 3 the highest AUC)."""
    spec = cell3_spec(epochs=3).replace("  noisy_skip", f"  monitor {monitor}\n  noisy_skip")
    ctx = make_ctx(tmp_path, spec, tiny_data)
    fake = iter([{"auc": 0.60, "logloss": 0.70}, {"auc": 0.61, "logloss": 0.50},
                 {"auc": 0.65, "logloss": 0.60}])
    monkeypatch.setattr(darts, "evaluate", lambda *a, **k: next(fake))
    search = Darts(ctx)
    search.run()
    assert ctx.record["best_epoch"] == best_epoch and ctx.record["monitor"] == monitor
    assert ctx.record[f"best_valid_{monitor}"] == search.history[best_epoch - 1][f"valid_{monitor}"]
    assert ctx.record["arch"] == search.history[best_epoch - 1]["arch"]


@pytest.mark.parametrize("seed", range(10))
def test_discretize_matches_strength_rule_on_random_alpha_beta(tmp_path, tiny_data, seed):
    net = supernet(tmp_path, tiny_data)
    g = torch.Generator().manual_seed(seed)
    alphas = {f"c.edge{i}_{j}": (2 * torch.randn(3, generator=g)).tolist()
              for j in (1, 2, 3) for i in range(j)}
    betas = {f"c.node{j}": (2 * torch.randn(j, generator=g)).tolist() for j in (1, 2, 3)}
    set_arch(net, alphas, betas)
    nodes = {n.label: n for n in net.modules() if isinstance(n, CellNode)}
    expected = {label: expected_topk(node, {i: alphas[f"c.edge{i}_{label[-1]}"] for i in node.sources},
                                     betas[label])[0]
                for label, node in nodes.items()}
    assert discretize(net) == expected


# ------------------------------------------------------------------------------ eq. 5-6
def relaxed_at_random(tmp_path, tiny_data, seed: int):
    """A relaxed supernet with random alpha/beta, and the generator that drew them."""
    net = supernet(tmp_path, tiny_data)
    net.relax()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.arch_parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return net, g


def test_relaxed_node_is_beta_mix_of_alpha_mixes(tmp_path, tiny_data):
    net, g = relaxed_at_random(tmp_path, tiny_data, seed=3)
    tau = 0.6
    net.set_temperature(tau)
    net.eval()
    m, k = len(tiny_data.schema.fields), 4
    x0 = torch.randn(32, m, k, generator=g)
    with torch.no_grad():
        x1 = net.c_node1(x0)
        x2 = net.c_node2(x0, x1)
        got = net.c_node3(x0, x1, x2)
        xs = [x0, x1, x2]
        node = net.c_node3
        wb = torch.softmax(node.beta / tau, 0)
        want = torch.zeros_like(x0)
        for k_, i in enumerate(node.sources):
            edge = node.edges[str(i)]
            wa = torch.softmax(edge.alpha / tau, 0)
            mix = sum(wa[o] * edge.candidates[o](xs[i]) for o in range(len(OPS)))
            want = want + wb[k_] * mix
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
        # the temperature is applied: at tau = 1 the same alpha/beta give another output
        net.set_temperature(1.0)
        assert not torch.allclose(net.c_node3(x0, x1, x2), got, atol=1e-4)


def test_a_strategy_hands_in_its_own_weighting(tmp_path, tiny_data):
    """The relaxation is a policy: a hard one-hot weighting (a straight-through sample would
    look the same forward) makes each relaxed edge its strongest operator and each node the
    strongest input's edge -- with no change to the choice modules."""
    def hardmax(logits, tau):
        return torch.nn.functional.one_hot(logits.argmax(), len(logits)).to(logits.dtype)

    net, g = relaxed_at_random(tmp_path, tiny_data, seed=5)
    net.set_weighting(hardmax)
    net.eval()
    x0 = torch.randn(16, len(tiny_data.schema.fields), 4, generator=g)
    node = net.c_node1
    with torch.no_grad():
        edge = node.edges[str(node.sources[int(node.beta.argmax())])]
        want = edge.candidates[int(edge.alpha.argmax())](x0)
        torch.testing.assert_close(node(x0), want)
        from nasc.runtime.choices import softmax_weights
        net.set_weighting(softmax_weights)
        assert not torch.allclose(node(x0), want)


# ------------------------------------------------------------------------------ bi-level, eq. 7
@pytest.fixture
def batches(tiny_data):
    t = tiny_data.train
    return {"A": batch_of(t, 0, 256), "A2": batch_of(t, 256, 256),
            "W": batch_of(t, 512, 256), "W2": batch_of(t, 768, 256)}


def test_first_order_gradients_use_only_their_own_batch(tmp_path, tiny_data, batches):
    ctx = make_ctx(tmp_path, cell3_spec(order=1), tiny_data)
    fresh = [Darts(ctx) for _ in range(3)]
    a_names, w_names = arch_names(fresh[0].net), weight_names(fresh[0].net)
    assert a_names and w_names and not a_names & w_names
    init_a, init_w = params_of(fresh[0].net, a_names), params_of(fresh[0].net, w_names)
    for d in fresh[1:]:  # identical starting points
        assert same(params_of(d.net, a_names), init_a) and same(params_of(d.net, w_names), init_w)

    # the architecture step reads the architecture batch only, and moves only alpha/beta
    d1, d2, d3 = fresh
    d1.arch_step(batches["A"], batches["W"])
    d2.arch_step(batches["A"], batches["W2"])
    d3.arch_step(batches["A2"], batches["W"])
    for d in fresh:
        assert same(params_of(d.net, w_names), init_w)
    step1 = delta(params_of(d1.net, a_names), init_a)
    step2 = delta(params_of(d2.net, a_names), init_a)
    step3 = delta(params_of(d3.net, a_names), init_a)
    assert any(float(v.abs().max()) > 0 for v in step1.values())
    assert same(step1, step2)
    assert not same(step1, step3)

    # the weight step moves only the weights
    a_before = params_of(d1.net, a_names)
    d1.weight_step(batches["W"])
    assert same(params_of(d1.net, a_names), a_before)
    assert not same(params_of(d1.net, w_names), init_w)


def test_weight_update_does_not_read_the_architecture_batch(tmp_path, tiny_data, batches):
    """With the architecture learning rate at 0 alpha/beta stay put, so one DARTS iteration
    (arch step, then weight step) must give the same weights whatever the architecture batch."""
    ctx = make_ctx(tmp_path, cell3_spec(order=1), tiny_data)
    runs = {}
    for arch_batch, train_batch in (("A", "W"), ("A2", "W"), ("A", "W2")):
        d = Darts(ctx)
        for group in d.a_opt.param_groups:
            group["lr"] = 0.0
        w_names = weight_names(d.net)
        before = params_of(d.net, w_names)
        d.arch_step(batches[arch_batch], batches[train_batch])
        d.weight_step(batches[train_batch])
        runs[arch_batch, train_batch] = delta(params_of(d.net, w_names), before)
    assert any(float(v.abs().max()) > 0 for v in runs["A", "W"].values())
    assert same(runs["A", "W"], runs["A2", "W"])
    assert not same(runs["A", "W"], runs["A", "W2"])


def exact_unrolled_grads(d: Darts, arch_batch, train_batch):
    """(grad_alpha L_val(w', alpha) at fixed w', and d/d alpha L_val(w'(alpha), alpha)),
    w'(alpha) = w - xi grad_w L_train(w, alpha), the second by double backward (exact eq. 7)."""
    net, xi = d.net, d.w_opt.param_groups[0]["lr"]
    params = dict(net.named_parameters())
    ids = {id(p): n for n, p in params.items()}
    w_names = [ids[id(p)] for p in d.weight_params]
    a_names = [ids[id(p)] for p in d.arch_params]
    arch = [params[n] for n in a_names]

    def loss(p, batch):
        return torch.nn.functional.binary_cross_entropy_with_logits(
            functional_call(net, p, (batch,)), batch["label"])

    g = torch.autograd.grad(loss(params, train_batch), [params[n] for n in w_names],
                            create_graph=True, allow_unused=True)
    w_prime = {n: params[n] - xi * gi if gi is not None else params[n]
               for n, gi in zip(w_names, g)}
    total = torch.autograd.grad(loss({**params, **w_prime}, arch_batch), arch, allow_unused=True)
    fixed = {n: w.detach() for n, w in w_prime.items()}
    partial = torch.autograd.grad(loss({**params, **fixed}, arch_batch), arch, allow_unused=True)
    return partial, total


def flat(grads):
    return torch.cat([g.reshape(-1) for g in grads])


def darts_with_spread_embeddings(ctx):
    """Embedding tables start at std 1e-4; at that scale DARTS' finite-difference step
    (0.01 / |v|) is far outside the linear range of the loss. Tables of std 1 (as after some
    training) keep the Hessian-vector product's truncation error small."""
    d = Darts(ctx)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in d.net.modules():
            if isinstance(m, torch.nn.Embedding):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g))
    return d


def test_second_order_unrolls_one_weight_step(tmp_path, tiny_data, batches):
    ctx1 = make_ctx(tmp_path / "o1", cell3_spec(order=1), tiny_data)
    ctx2 = make_ctx(tmp_path / "o2", cell3_spec(order=2), tiny_data)
    d1, d2 = darts_with_spread_embeddings(ctx1), darts_with_spread_embeddings(ctx2)
    A, W = batches["A"], batches["W"]
    assert d1.order == 1 and d2.order == 2
    # first order: the gradient of the architecture loss at the current weights
    g1 = flat(torch.autograd.grad(d1.loss(d1.net(A), A["label"]), d1.arch_params))
    g2 = flat(d2.unrolled_grads(A, W)[0])
    partial, exact = (flat(g) for g in exact_unrolled_grads(darts_with_spread_embeddings(ctx2), A, W))
    assert torch.isfinite(g2).all() and float(g2.abs().max()) > 0
    assert not torch.allclose(g1, g2, rtol=1e-3, atol=1e-7)
    # eq. 7's second term (- xi * Hessian-vector product), as the code approximates it by finite
    # differences, against the exact one: same direction, small relative error
    corr_code, corr_exact = g2 - partial, exact - partial
    assert float(corr_exact.norm()) > 0.01 * float(partial.norm())  # the term is not noise
    rel = float((corr_code - corr_exact).norm() / corr_exact.norm())
    cos = float(torch.nn.functional.cosine_similarity(corr_code, corr_exact, 0))
    assert rel < 0.35 and cos > 0.9, (rel, cos)

    # a full second-order step runs and moves alpha/beta, not the weights
    d2 = Darts(ctx2)
    a_names, w_names = arch_names(d2.net), weight_names(d2.net)
    a0, w0 = params_of(d2.net, a_names), params_of(d2.net, w_names)
    d2.arch_step(A, W)
    assert same(params_of(d2.net, w_names), w0)
    after = params_of(d2.net, a_names)
    assert not same(after, a0) and all(torch.isfinite(v).all() for v in after.values())
    # second order reads the training batch (first order does not)
    d3 = Darts(ctx2)
    d3.arch_step(A, batches["W2"])
    assert not same(params_of(d3.net, a_names), after)
