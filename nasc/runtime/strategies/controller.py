"""The RL controller that `rl` and `enas` share (AMEIR App. C.4 after Zoph & Le 2017 and ENAS).

A two-layer LSTM (hidden 32) emits a space's decisions (nasc.runtime.strategies.decisions) one
by one: each step's output goes through the head of its decision, the logits are squashed as ENAS
does (``tanh_constant * tanh(logits / temperature)``: 2.5 and 5 in the paper, which keeps the
policy from collapsing early), masked, and sampled; the chosen token's embedding is the next
step's input. A :class:`Policy` trains it by REINFORCE with PPO's clipped ratio (Schulman et al.
2017): a batch of sampled architectures and their rewards, advantage = reward minus an
exponential moving average of the rewards (updated with each reward before it is subtracted, as
ENAS' code does), and an entropy bonus in the loss. The controller lives on the CPU: it is tiny,
and CPU draws keep a seeded search reproducible on any device.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nasc.runtime.strategies.decisions import Group, decode

HIDDEN = 32   # App. C.4: a two-layer LSTM with hidden size 32
LAYERS = 2
INIT_RANGE = 0.1  # ENAS initialises every controller weight uniformly in [-0.1, 0.1]


def squash(logits: torch.Tensor, temperature: float, tanh_constant: float) -> torch.Tensor:
    """ENAS' sampling logits: ``tanh_constant * tanh(logits / temperature)``."""
    return tanh_constant * torch.tanh(logits / temperature)


def clipped_loss(log_prob: torch.Tensor, old_log_prob: float, advantage: float,
                 clip: float) -> torch.Tensor:
    """PPO's clipped surrogate, negated to be minimised: -min(r A, clip(r, 1-eps, 1+eps) A) with
    r = p / p_old; at r = 1 (the first step on a batch) its gradient is REINFORCE's."""
    ratio = torch.exp(log_prob - old_log_prob)
    return -torch.minimum(ratio * advantage, ratio.clamp(1 - clip, 1 + clip) * advantage)


class EmaBaseline:
    """The moving average of rewards that REINFORCE subtracts (ENAS: decay 0.9). The first
    reward starts it, so the first advantage is 0 instead of the whole reward."""

    def __init__(self, decay: float, value: float | None = None):
        self.decay, self.value = decay, value

    def advantage(self, reward: float) -> float:
        self.value = reward if self.value is None else \
            self.decay * self.value + (1 - self.decay) * reward
        return reward - self.value


class Controller(nn.Module):
    """The LSTM policy over ``groups``: one head (and token embedding) per group whose decisions
    are exchangeable, else one per decision."""

    def __init__(self, groups: list[Group], temperature: float, tanh_constant: float):
        super().__init__()
        self.groups = list(groups)
        self.temperature, self.tanh_constant = temperature, tanh_constant
        self.start = nn.Parameter(torch.zeros(1, 1, HIDDEN))  # the first step's input
        self.lstm = nn.LSTM(HIDDEN, HIDDEN, num_layers=LAYERS)
        sizes, self.plan = [], []  # plan: (group, head) of each decision
        for g, group in enumerate(self.groups):
            for step, size in enumerate(group.sizes):
                if step == 0 or not group.shared:
                    sizes.append(size)
                self.plan.append((g, len(sizes) - 1))
        self.heads = nn.ModuleList(nn.Linear(HIDDEN, n) for n in sizes)
        self.embeddings = nn.ModuleList(nn.Embedding(n, HIDDEN) for n in sizes)
        for p in self.parameters():
            nn.init.uniform_(p, -INIT_RANGE, INIT_RANGE)

    def forward(self, tokens: list[int] | None = None, generator: torch.Generator | None = None):
        """Sample a decision sequence (``tokens`` None, drawn from ``generator``) or score the
        given one: (tokens, summed log-probability, summed entropy)."""
        x, state = self.start, None
        log_prob, entropy = torch.zeros(()), torch.zeros(())
        out: list[int] = []
        taken: list[int] = []
        for step, (g, head) in enumerate(self.plan):
            if step > 0 and self.plan[step - 1][0] != g:
                taken = []
            h, state = self.lstm(x, state)
            logits = squash(self.heads[head](h[-1, 0]), self.temperature, self.tanh_constant)
            allowed = torch.tensor(self.groups[g].allowed(taken))
            log_p = torch.log_softmax(logits.masked_fill(~allowed, float("-inf")), dim=-1)
            if tokens is None:
                token = int(torch.multinomial(log_p.detach().exp(), 1, generator=generator))
            else:
                token = int(tokens[step])
                if not allowed[token]:
                    raise ValueError(f"decision {step} cannot be {token}: that token is masked")
            log_prob = log_prob + log_p[token]
            # masked tokens: p = 0 and log p = -inf; 0 * -inf would make the gradient NaN
            entropy = entropy - (log_p.exp() * log_p.masked_fill(~allowed, 0.0)).sum()
            taken.append(token)
            out.append(token)
            x = self.embeddings[head](torch.tensor([[token]]))
        return out, log_prob, entropy


@dataclass
class Sample:
    tokens: list[int]
    log_prob: float
    assignment: dict


class Policy:
    """The controller, its Adam optimizer and its baseline: sample, update, save, restore."""

    def __init__(self, groups: list[Group], settings: dict, seed: int):
        with torch.random.fork_rng(devices=[]):  # leave the global stream to the children
            torch.manual_seed(seed)
            self.controller = Controller(groups, settings["temperature"],
                                         settings["tanh_constant"])
        self.optimizer = torch.optim.Adam(self.controller.parameters(),
                                          lr=settings["controller_lr"])
        self.baseline = EmaBaseline(settings["baseline_decay"])
        self.clip, self.ppo_epochs = settings["ppo_clip"], settings["ppo_epochs"]
        self.entropy_weight = settings["entropy_weight"]
        self.batch = settings["controller_batch"]

    def sample(self, generator: torch.Generator) -> Sample:
        with torch.no_grad():
            tokens, log_prob, _ = self.controller(generator=generator)
        return Sample(tokens, float(log_prob), decode(self.controller.groups, tokens))

    def update(self, batch: list[tuple[list[int], float, float]]) -> dict:
        """``ppo_epochs`` Adam steps on (tokens, log-probability when sampled, reward) rows."""
        advantages = [self.baseline.advantage(reward) for _, _, reward in batch]
        for _ in range(self.ppo_epochs):
            loss = torch.zeros(())
            for (tokens, old, _), advantage in zip(batch, advantages):
                _, log_prob, entropy = self.controller(tokens)
                loss = loss + clipped_loss(log_prob, old, advantage, self.clip) \
                    - self.entropy_weight * entropy
            self.optimizer.zero_grad(set_to_none=True)
            (loss / len(batch)).backward()
            self.optimizer.step()
        return {"baseline": self.baseline.value, "advantages": advantages}

    def state_dict(self) -> dict:
        return {"controller": self.controller.state_dict(),
                "optimizer": self.optimizer.state_dict(), "baseline": self.baseline.value}

    def load_state_dict(self, state: dict) -> None:
        self.controller.load_state_dict(state["controller"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.baseline.value = state["baseline"]
