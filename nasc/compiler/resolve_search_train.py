"""The blocks after the model: ``search`` (a known strategy, its settings and stages, and its fit
to the space the model leaves open) and ``train`` (its settings, and their fit to the head)."""
from __future__ import annotations

from nasc.compiler import ir
from nasc.compiler.program import HeadDef, Program, StrategyDef
from nasc.compiler.resolve_state import did_you_mean
from nasc.compiler.resolve_values import ValueResolver
from nasc.compiler.seq2seq_fit import seq2seq_problem
from nasc.compiler.settings import CTR_MONITORS, NEXT_ITEM_MONITORS
from nasc.compiler.strategies import STRATEGIES, searching, supporting


def written_setting(body: ir.Body, key: str) -> ir.Setting:
    """The setting ``key`` as written in a block (for its span); the caller knows it is there."""
    return next(item for item in body.items if isinstance(item, ir.Setting) and item.key == key)


class SearchTrainResolver(ValueResolver):
    def strategy(self, search: ir.Search) -> StrategyDef | None:
        row = STRATEGIES.get(search.strategy)
        if row is None:
            self.error(search.span, f"unknown search strategy `{search.strategy}`",
                       did_you_mean(search.strategy, STRATEGIES) or
                       "strategies: " + ", ".join(STRATEGIES))
            return None
        table = row.settings
        where = f"search {search.strategy}"
        settings = self.settings_dict(search.body, table, where)
        stages = {}
        if "stage" in table:
            _, nested, _ = self.body_items(search.body, table, where)
            for item in nested:
                stages[str(item.arg)] = self.settings_dict(item.body, table["stage"].nested,
                                                           f"stage {item.arg}")
                stages[str(item.arg)]["_span"] = item.span
        return StrategyDef(search.strategy, settings, stages, search.span)

    def train_fits(self, train: dict, head: HeadDef) -> None:
        """The monitor must be one the head's task reports (a next-item model defaults to
        NDCG@5), `objective` and `eval_negatives` belong to next-item heads, `lr_decay` to the
        plateau schedule and `warmup` to the cosine one."""
        written = {item.key: item for item in (self.spec.train.body.items if self.spec.train else ())
                   if isinstance(item, ir.Setting)}
        monitors = NEXT_ITEM_MONITORS if head.task == "next_item" else CTR_MONITORS
        if "monitor" not in written:
            if head.task == "next_item":  # the table's default (auc) is a CTR metric
                train["monitor"] = NEXT_ITEM_MONITORS[0]
        elif train.get("monitor") not in monitors + (None,):  # None: already reported
            self.error(written["monitor"].span,
                       f"`monitor {train.get('monitor')}` is not reported by a `head {head.task}` "
                       f"model", "use one of " + ", ".join(monitors))
        for key in ("objective", "eval_negatives", "mask_prob", "eval_sampling"):
            if key in written and head.task != "next_item":
                self.error(written[key].span, f"`{key}` is a setting of `head next_item` models; "
                                              f"this one has `head {head.task}`",
                           f"remove `{key}`")
        objective = train.get("objective")
        if "mask_prob" in written and head.task == "next_item" and objective != "cloze":
            self.error(written["mask_prob"].span, "`mask_prob` only applies to `objective "
                                                  f"cloze`, but this train block trains "
                                                  f"`objective {objective}`",
                       "remove `mask_prob`, or write `objective cloze`")
        if (train.get("eval_sampling") == "popularity" and train.get("eval_negatives") == "full"
                and head.task == "next_item"):
            self.error(written["eval_sampling"].span, "`eval_sampling popularity` draws the "
                                                      "`eval_negatives`, but `eval_negatives full` "
                                                      "ranks every item",
                       "write a number of negatives, or remove `eval_sampling`")
        schedule = train.get("schedule")
        for key, belongs in (("lr_decay", "plateau"), ("warmup", "cosine")):
            if key in written and schedule != belongs:
                self.error(written[key].span, f"`{key}` only applies to `schedule {belongs}`, "
                                              f"but this train block uses `schedule {schedule}`",
                           f"remove `{key}`, or write `schedule {belongs}`")

    def objective_fits(self, train: dict, head: HeadDef, bindings: list) -> None:
        """`objective seq2seq` needs a next-item model whose head reads `last` of a causal
        sequence (in a search: causal at every point of the space), `objective cloze` a fixed
        one whose head reads `last` of any sequence (nasc.compiler.seq2seq_fit); the error sits
        at the setting."""
        objective = train.get("objective")
        if objective not in ("seq2seq", "cloze") or head.task != "next_item":
            return  # a CTR head's `objective` is reported by train_fits
        setting = written_setting(self.spec.train.body, "objective")
        problem = seq2seq_problem(head, {b.name: b for b in bindings}, objective)
        # A search over a causal space may name seq2seq: its supernet ranks children with
        # `last_state` (and trains with it unless `supernet_objective seq2seq`), and the found
        # arch.nas retrains with seq2seq.
        # Cloze changes what the model reads (a mask item appended), so the ranking would not
        # measure what the retrain trains: refused.
        if problem is None and self.spec.search is not None and objective == "cloze":
            problem = ("`objective cloze` trains fixed models; a search's supernet trains "
                       "with `objective last_state`",
                       "train the searched arch.nas with cloze, or remove the setting here")
        if problem is not None:
            self.error(setting.span, *problem)

    def supernet_objective_fits(self, strategy: StrategyDef, head: HeadDef,
                                bindings: list) -> None:
        """`supernet_objective seq2seq` trains the supernet at every position: a next-item head
        reading `last` of a sequence that is causal at every point of the space."""
        if strategy.settings.get("supernet_objective") != "seq2seq":
            return
        setting = written_setting(self.spec.search.body, "supernet_objective")
        if head.task != "next_item":
            self.error(setting.span, "`supernet_objective` is a setting of `head next_item` "
                                     f"searches; this one has `head {head.task}`",
                       "remove `supernet_objective`")
            return
        problem = seq2seq_problem(head, {b.name: b for b in bindings}, "seq2seq",
                                  setting="supernet_objective")
        if problem is not None:
            self.error(setting.span, *problem)

    def strategy_fits(self, program: Program) -> None:
        from nasc.compiler.space import choices  # the space is computed from a checked program

        search = self.spec.search
        found = choices(program)
        if not found:
            self.error(search.span, f"the model has no choice left: `search {search.strategy}` "
                                    "has nothing to search",
                       "train it with `nasc train`, or add a choice (an opset, `edges`, a set)")
            return
        row = STRATEGIES[search.strategy]
        for choice in found:
            if choice.construct not in row.searches:
                others = [n for n in searching(choice.construct) if n != row.name]
                self.error(search.span, f"{row.name} cannot search `{choice.owner}` "
                                        f"({choice.construct}): it searches "
                                        + ", ".join(row.searches) + " choices",
                           "use " + " or ".join(f"`search {n}`" for n in others)
                           + " for this space" if others else None)
                return
        task = program.head.task
        if task not in row.heads:
            self.error(search.span, f"`search {row.name}` trains {', '.join(row.heads)} models; "
                                    f"a `head {task}` space is searched by "
                                    + (", ".join(supporting(task)) or "no strategy yet"),
                       " or ".join(f"`search {n} {{ ... }}`" for n in supporting(task)) or None)
        names = {c.owner for c in found}
        if program.strategy.settings.get("steps") == "together" and program.strategy.stages:
            first = next(iter(program.strategy.stages.values()))
            self.error(first["_span"], "`steps together` searches every choice in one stage, so "
                                       "this `stage` block would be ignored",
                       "remove the `stage` blocks, or write `steps progressive`")
        for stage, settings in program.strategy.stages.items():
            if stage not in names:
                self.error(settings["_span"], f"stage `{stage}` names no searchable construct",
                           did_you_mean(stage, names) or "stages: " + ", ".join(sorted(names)))
