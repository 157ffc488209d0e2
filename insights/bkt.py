"""Bayesian Knowledge Tracing with forgetting and learner ability, in plain numpy.

One hidden state per learner and skill: *known* or *not known*. Per skill:

- ``prior``  P(known) before the first answer,
- ``learn``  P(not known -> known) after an opportunity,
- ``forget`` P(known -> not known) after an opportunity,
- ``guess``  P(correct | not known),
- ``slip``   P(wrong | known).

For each answer the model (1) predicts P(correct) from the current mastery,
(2) conditions mastery on the observed answer (Bayes), (3) applies the
learn/forget transition if the answer *teaches*. Mastery after step (3) is what
a learner's level is derived from, so every level change can be traced to one
answer and these five numbers.

**An answer without feedback teaches nothing.** The transition stands for what
the learner takes away from an opportunity; an answer is one only when the
learner sees whether it was right. Quiz and exam answers are graded and
reviewed on the result page: they teach. The adaptive diagnostic, skill check
and course challenge ask question by question without saying whether an answer
was right (only after the last answer does the result page mark each right or
wrong, never with the correct answer or an explanation): they measure, and the
measurement must not move what it measures. Every function that runs the
recursion takes a per-response ``teaches`` flag (default: every answer
teaches); after a response that does not teach, mastery is the posterior itself
(an identity transition), and the fit counts learn/forget only over teaching
transitions. Time-based forgetting (``insights.mastery``) is separate and
unchanged.

Individualised BKT: the skill's parameters are shifted, answer by answer, by
the learner's *ability*: the logit of their smoothed correct rate over their
previous ``ABILITY_WINDOW`` answered questions on any skill, minus the logit of
the base rate (0 for an average learner, and for a learner with no history).
``individualise`` moves prior and learn up and guess up / slip down (in logit
units, by fitted weights) for an able learner, so a strong learner's correct
answer is less of a surprise and a wrong one more of a slip.

Item difficulty (KT-IDEM): an answer to a harder question is weaker evidence of
not knowing and stronger evidence of knowing. ``individualise`` also takes each
answer's item difficulty b in logits (the question's fitted IRT difficulty, else
its authored label, ``insights.diagnostic.item_difficulty``) and moves guess down
and slip up by ``item_weight * b`` in logit units, the same form as the learner
simulator's answers. The weight is fitted with the ability weights; it is 0 for
the defaults and wherever the data carry no item difficulties (the ASSISTments
builder files name skills, not items), where the model is exactly the one
without it. The same
functions serve the live platform (``insights.skills``) and the offline
evaluation (``evaluate_skill_model``), so the figure measured there is the
estimate learners see.

Everything works elementwise on floats or numpy arrays, which lets the
evaluation run many learner/skill sequences side by side.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

# Bounds keep the fitted model interpretable: a "known" learner must be more
# likely to answer correctly than one who does not know (guess + slip < 1), and
# degenerate 0/1 probabilities would make a single answer irreversible.
BOUNDS: dict[str, tuple[float, float]] = {
    "prior": (0.01, 0.99),
    "learn": (0.001, 0.6),
    "forget": (0.0, 0.6),
    "guess": (0.01, 0.45),
    "slip": (0.01, 0.45),
}
PARAM_NAMES = ("prior", "learn", "forget", "guess", "slip")
# A probability for one learner (float) or for many side by side (array).
Numeric = float | np.ndarray
Answers = bool | np.ndarray
_EPS = 1e-9


@dataclass(frozen=True)
class BKTParams:
    prior: float = 0.3
    learn: float = 0.15
    forget: float = 0.02
    guess: float = 0.2
    slip: float = 0.1

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> BKTParams:
        """Build from stored JSON; missing or invalid values fall back to the defaults."""
        base = DEFAULT_PARAMS
        values: dict[str, float] = {}
        for name in PARAM_NAMES:
            raw = data.get(name, getattr(base, name))
            try:
                value = float(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                value = getattr(base, name)
            if not np.isfinite(value):
                value = getattr(base, name)
            low, high = BOUNDS[name]
            values[name] = min(max(value, low), high)
        return cls(**values)

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 6) for name, value in asdict(self).items()}


DEFAULT_PARAMS = BKTParams()

# The learner's last answered questions, on any skill, that their ability is read from.
ABILITY_WINDOW = 50
# Virtual answers at the base rate that keep a short history near average ability.
ABILITY_PSEUDO_COUNT = 5.0
ABILITY_BOUNDS = (0.0, 3.0)


@dataclass(frozen=True)
class AbilityParams:
    """How strongly the learner's ability shifts each parameter (logit units per unit)."""

    prior_weight: float = 0.0
    learn_weight: float = 0.0
    emission_weight: float = 0.0
    # How far an item's difficulty (logits) moves guess down and slip up (KT-IDEM).
    item_weight: float = 0.0
    # Correct rate of all answers the model was fitted on: ability 0 means "like them".
    base_rate: float = 0.65

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AbilityParams:
        """Build from stored JSON; missing or invalid values fall back to no individualisation."""
        values: dict[str, float] = {}
        for name, default in asdict(cls()).items():
            try:
                value = float(data.get(name, default))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                value = default
            if not np.isfinite(value):
                value = default
            if name == "base_rate":
                values[name] = min(max(value, 0.05), 0.95)
            else:
                values[name] = min(max(value, ABILITY_BOUNDS[0]), ABILITY_BOUNDS[1])
        return cls(**values)

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 6) for name, value in asdict(self).items()}


NO_ABILITY = AbilityParams()
# The EM fit's reading of item difficulties (``fit(difficulty=...)``): KT-IDEM at weight 1.
ITEMS_ONLY = AbilityParams(item_weight=1.0)


def _logit(p: Numeric) -> Numeric:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def _sigmoid(x: Numeric) -> Numeric:
    return 1 / (1 + np.exp(-x))


def ability(correct: Numeric, answered: Numeric, base_rate: float) -> Numeric:
    """Learner ability from ``correct`` of the last ``answered`` (<= ABILITY_WINDOW) answers."""
    rate = (correct + ABILITY_PSEUDO_COUNT * base_rate) / (answered + ABILITY_PSEUDO_COUNT)
    return _logit(rate) - _logit(base_rate)


def individualise(
    params: BKTParams | ParamArrays,
    learner_ability: Numeric,
    weights: AbilityParams,
    difficulty: Numeric = 0.0,
) -> ParamArrays:
    """The skill's parameters for a learner of this ability answering an item of this
    difficulty (unchanged at ability 0 and difficulty 0)."""
    emission = weights.emission_weight * learner_ability - weights.item_weight * difficulty
    return ParamArrays(
        prior=_sigmoid(_logit(params.prior) + weights.prior_weight * learner_ability),
        learn=_sigmoid(_logit(params.learn) + weights.learn_weight * learner_ability),
        forget=params.forget * np.ones_like(learner_ability, dtype=float),
        guess=_sigmoid(_logit(params.guess) + emission),
        slip=_sigmoid(_logit(params.slip) - emission),
    )


def p_correct(mastery: Numeric, params: BKTParams | ParamArrays) -> Numeric:
    """P(next answer correct) given P(known) before it."""
    return mastery * (1 - params.slip) + (1 - mastery) * params.guess


def posterior(mastery: Numeric, correct: Answers, params: BKTParams | ParamArrays) -> Numeric:
    """P(known) after seeing the answer, before the learn/forget transition."""
    known_and_obs = np.where(correct, mastery * (1 - params.slip), mastery * params.slip)
    unknown_and_obs = np.where(
        correct, (1 - mastery) * params.guess, (1 - mastery) * (1 - params.guess)
    )
    return known_and_obs / np.maximum(known_and_obs + unknown_and_obs, _EPS)


def transition(mastery: Numeric, params: BKTParams | ParamArrays) -> Numeric:
    """Apply one opportunity's learning and forgetting."""
    return mastery * (1 - params.forget) + (1 - mastery) * params.learn


def study(mastery: Numeric, params: BKTParams | ParamArrays) -> Numeric:
    """Apply one learning opportunity from study: learning, no forgetting (studying a skill
    does not make a learner forget it)."""
    return mastery + (1 - mastery) * params.learn


def update(
    mastery: Numeric,
    correct: Answers,
    params: BKTParams | ParamArrays,
    teaches: Answers = True,
) -> Numeric:
    """Mastery after one answer: Bayes on the answer, then learn/forget if it teaches."""
    known = posterior(mastery, correct, params)
    return np.where(teaches, transition(known, params), known)


def trace(
    correct: list[bool] | np.ndarray,
    params: BKTParams,
    teaches: list[bool] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run one learner's answers on one skill, starting from the prior.

    Returns (P(correct) predicted before each answer, mastery after each answer).
    """
    obs = np.asarray(correct, dtype=bool)
    flags = _teaches(teaches, len(obs))
    predicted = np.empty(len(obs))
    mastery_after = np.empty(len(obs))
    mastery = params.prior
    for i, answer in enumerate(obs):
        predicted[i] = p_correct(mastery, params)
        mastery = float(update(mastery, answer, params, flags[i]))
        mastery_after[i] = mastery
    return predicted, mastery_after


def _teaches(teaches: list[bool] | np.ndarray | None, n: int) -> np.ndarray:
    """The per-response flag as a bool array; None: every response teaches."""
    if teaches is None:
        return np.ones(n, dtype=bool)
    flags = np.asarray(teaches, dtype=bool)
    if flags.shape != (n,):
        raise ValueError(f"teaches has shape {flags.shape}, expected ({n},)")
    return flags


@dataclass(frozen=True)
class ParamArrays:
    """Parameters broadcast per row, e.g. one row per response or per skill."""

    prior: np.ndarray
    learn: np.ndarray
    forget: np.ndarray
    guess: np.ndarray
    slip: np.ndarray

    @classmethod
    def from_params(cls, params: list[BKTParams]) -> ParamArrays:
        return cls(**{name: np.array([getattr(p, name) for p in params]) for name in PARAM_NAMES})

    def take(self, index: np.ndarray) -> ParamArrays:
        return ParamArrays(**{name: getattr(self, name)[index] for name in PARAM_NAMES})

    def learning_only(self, rows: np.ndarray | None) -> ParamArrays:
        """These per-row parameters with no forgetting on ``rows`` (a bool mask; None: none),
        the transitions that stand for study (``study``)."""
        if rows is None or not np.any(rows):
            return self
        return ParamArrays(**{**asdict(self), "forget": np.where(rows, 0.0, self.forget)})

    def to_params(self) -> list[BKTParams]:
        return [
            BKTParams(**{name: float(getattr(self, name)[i]) for name in PARAM_NAMES})
            for i in range(len(self.prior))
        ]


@dataclass(frozen=True)
class Layout:
    """Responses grouped into ordered sequences, walkable one rank at a time.

    ``group`` says which sequence each response belongs to (e.g. one per
    learner and skill) and ``order`` its position in time. Walking ``steps``
    visits every sequence's first response, then every second one, and so on,
    so one numpy operation advances all sequences at once while each response
    only ever sees the responses before it in its own sequence.
    """

    group: np.ndarray  # sequence index (0..n_groups-1) per response
    n_groups: int
    rank: np.ndarray  # position of each response within its sequence
    next_index: np.ndarray  # index of the next response in the same sequence, -1 at the end
    steps: list[np.ndarray]  # steps[t]: indices of the responses with rank t

    @classmethod
    def build(cls, group_keys: np.ndarray, order: np.ndarray) -> Layout:
        """``group_keys``: one integer key per response (e.g. learner * n_skills + skill)."""
        _, group = np.unique(group_keys, return_inverse=True)
        group = group.ravel()
        n = len(group)
        by_seq = np.lexsort((order, group))
        sorted_group = group[by_seq]
        is_start = np.ones(n, dtype=bool)
        is_start[1:] = sorted_group[1:] != sorted_group[:-1]
        start_pos = np.maximum.accumulate(np.where(is_start, np.arange(n), 0))
        rank = np.empty(n, dtype=np.int64)
        rank[by_seq] = np.arange(n) - start_pos
        next_index = np.full(n, -1, dtype=np.int64)
        has_next = np.zeros(n, dtype=bool)
        has_next[:-1] = ~is_start[1:]
        next_index[by_seq[has_next]] = by_seq[np.flatnonzero(has_next) + 1]
        by_rank = np.argsort(rank, kind="stable")
        counts = np.bincount(rank) if n else np.zeros(0, dtype=np.int64)
        steps = np.split(by_rank, np.cumsum(counts)[:-1]) if n else []
        return cls(
            group=group,
            n_groups=int(group.max()) + 1 if n else 0,
            rank=rank,
            next_index=next_index,
            steps=steps,
        )

    def previous_index(self) -> np.ndarray:
        """Index of the previous response in the same sequence, -1 for a first response."""
        previous = np.full(len(self.group), -1, dtype=np.int64)
        has_next = self.next_index >= 0
        previous[self.next_index[has_next]] = np.flatnonzero(has_next)
        return previous

    def running_mean(
        self, values: np.ndarray, *, decay: float, init: float | np.ndarray
    ) -> np.ndarray:
        """Exponentially weighted mean of the *earlier* values in each sequence.

        ``decay`` is the weight the past keeps at each step (0: only the
        previous value counts). ``init`` (a number, or one per response) stands
        in before a sequence's first response.
        """
        out = np.empty(len(values))
        state = np.zeros(self.n_groups)
        start = np.broadcast_to(np.asarray(init, dtype=float), (len(values),))
        for t, rows in enumerate(self.steps):
            seq = self.group[rows]
            current = start[rows] if t == 0 else state[seq]
            out[rows] = current
            state[seq] = decay * current + (1 - decay) * values[rows]
        return out

    def window_sums(self, values: np.ndarray, *, window: int) -> tuple[np.ndarray, np.ndarray]:
        """Sum and number of the (at most ``window``) values just before each response
        in its sequence."""
        by_seq = np.lexsort((self.rank, self.group))
        cumulative = np.concatenate([[0.0], np.cumsum(values[by_seq].astype(float))])
        position = np.arange(len(by_seq))
        low = np.maximum(position - self.rank[by_seq], position - window)
        sums = np.empty(len(by_seq))
        counts = np.empty(len(by_seq))
        sums[by_seq] = cumulative[position] - cumulative[low]
        counts[by_seq] = position - low
        return sums, counts

    def running_average(self, values: np.ndarray, *, init: float | np.ndarray) -> np.ndarray:
        """Plain mean of the earlier values in each sequence; ``init`` before the first."""
        out = np.empty(len(values))
        total = np.zeros(self.n_groups)
        start = np.broadcast_to(np.asarray(init, dtype=float), (len(values),))
        for t, rows in enumerate(self.steps):
            seq = self.group[rows]
            out[rows] = start[rows] if t == 0 else total[seq] / t
            total[seq] += values[rows]
        return out


def _filter(
    layout: Layout, correct: np.ndarray, params: ParamArrays, teaches: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pass of the recursion: per response P(correct) before it, P(known) right
    after seeing it (Bayes), and mastery after the learn/forget step (the posterior
    itself after a response that does not teach)."""
    predicted = np.empty(len(correct))
    known_after = np.empty(len(correct))
    mastery_after = np.empty(len(correct))
    mastery = np.zeros(layout.n_groups)
    for t, rows in enumerate(layout.steps):
        seq = layout.group[rows]
        row_params = params.take(rows)
        before = row_params.prior if t == 0 else mastery[seq]
        predicted[rows] = p_correct(before, row_params)
        known_after[rows] = posterior(before, correct[rows], row_params)
        mastery[seq] = mastery_after[rows] = np.where(
            teaches[rows], transition(known_after[rows], row_params), known_after[rows]
        )
    return predicted, known_after, mastery_after


def forward(
    layout: Layout,
    correct: np.ndarray,
    params: ParamArrays,
    teaches: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """BKT over every sequence of ``layout``; ``params`` hold one row per response.

    Returns P(correct) predicted before each response (from earlier responses
    of the same sequence only) and mastery after each response. ``teaches``: per
    response, whether the learn/forget transition follows it (default: all).
    """
    predicted, _, mastery_after = _filter(layout, correct, params, _teaches(teaches, len(correct)))
    return predicted, mastery_after


@dataclass(frozen=True)
class FitResult:
    params: list[BKTParams]  # one per skill index
    log_likelihood: float
    iterations: int


def _emissions(obs: np.ndarray, params: ParamArrays) -> tuple[np.ndarray, np.ndarray]:
    """P(observed answer | not known), P(observed answer | known)."""
    unknown = np.where(obs, params.guess, 1 - params.guess)
    known = np.where(obs, 1 - params.slip, params.slip)
    return unknown, known


def _map_estimate(num: np.ndarray, den: np.ndarray, pseudo_count: float, name: str) -> np.ndarray:
    """Expected-count ratio pulled towards the default; the default where there is no data."""
    default = getattr(DEFAULT_PARAMS, name)
    weight = den + pseudo_count
    safe = np.where(weight > 0, weight, 1.0)
    return np.where(weight > 0, (num + pseudo_count * default) / safe, default)


def _map_with_offsets(
    start: np.ndarray,
    weight: np.ndarray,
    event: np.ndarray,
    offset: np.ndarray,
    skill: np.ndarray,
    pseudo_count: float,
    name: str,
    steps: int = 8,
) -> np.ndarray:
    """Per skill, the p whose responses' rates sigmoid(logit(p) + offset) match the expected
    ``event`` counts (``weight``: each response's posterior of the state), with the same
    ``pseudo_count`` virtual answers at the default on an average item as
    ``_map_estimate``, whose closed form it is at offset 0: Newton's method on logit(p),
    from ``start``."""
    n_skills = len(start)
    default = getattr(DEFAULT_PARAMS, name)
    events = np.bincount(skill, weights=weight * event, minlength=n_skills)
    x = _logit(np.clip(start, 1e-4, 1 - 1e-4))
    for _ in range(steps):
        rate = _sigmoid(x[skill] + offset)
        p = _sigmoid(x)
        gradient = (
            events
            - np.bincount(skill, weights=weight * rate, minlength=n_skills)
            + pseudo_count * (default - p)
        )
        curvature = np.bincount(
            skill, weights=weight * rate * (1 - rate), minlength=n_skills
        ) + pseudo_count * p * (1 - p)
        x = x + gradient / np.maximum(curvature, _EPS)
    return _sigmoid(x)


def fit(
    layout: Layout,
    correct: np.ndarray,
    skill: np.ndarray,
    n_skills: int,
    *,
    iterations: int = 40,
    tolerance: float = 1e-5,
    pseudo_count: float = 5.0,
    start: BKTParams = DEFAULT_PARAMS,
    teaches: np.ndarray | None = None,
    difficulty: np.ndarray | None = None,
    studied: np.ndarray | None = None,
) -> FitResult:
    """Fit per-skill parameters by expectation-maximisation (Baum-Welch).

    ``layout`` must group responses by learner *and* skill; ``skill`` gives
    each response's skill index. Every M-step is a maximum a posteriori
    estimate with ``pseudo_count`` virtual observations at the default values,
    so a skill with little data stays near the defaults instead of jumping to
    extremes, then clipped to ``BOUNDS``.

    ``teaches`` (default: every response): whether the learn/forget transition
    follows a response. After one that does not, the hidden state carries over
    unchanged, and learn and forget are estimated from teaching transitions only.

    ``difficulty`` (logits per response, default 0): each answer is read with its item's
    difficulty moving guess down and slip up (KT-IDEM at item weight 1), and guess and
    slip are fitted as the skill's values on an average item (b = 0). Where the adaptive
    diagnostic asks harder questions of those who know, a fit without them reads the
    misses on hard items as slips of the skill itself.

    ``studied`` (default: none): responses whose transition stands for study after them
    (they teach only because a lesson followed): learning without forgetting
    (``study``), so forget is estimated from the other teaching transitions only.
    """
    obs = correct.astype(bool)
    n = len(obs)
    offsets = np.zeros(n) if difficulty is None else np.asarray(difficulty, dtype=float)
    has_offsets = bool(np.any(offsets))
    flags = _teaches(teaches, n)
    skill_params = ParamArrays.from_params([start] * n_skills)
    is_first = layout.rank == 0
    has_next = layout.next_index >= 0
    nxt = layout.next_index[has_next]
    # Transitions that teach: the only ones learn and forget are counted over; forget only
    # over those that are not study.
    taught = has_next & flags
    taught_next = flags[has_next]
    study = np.zeros(n, dtype=bool) if studied is None else np.asarray(studied, dtype=bool)
    forgettable = taught & ~study
    forgettable_next = taught_next & ~study[has_next]
    previous_ll = -np.inf
    log_likelihood = -np.inf

    def total_by_skill(values: np.ndarray | None, where: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(
            skill if where is None else skill[where], weights=values, minlength=n_skills
        )

    done = 0
    while done < iterations:
        done += 1
        params = skill_params.take(skill).learning_only(study)
        if has_offsets:
            # Each item's difficulty moves guess down and slip up, at item weight 1.
            params = individualise(params, 0.0, ITEMS_ONLY, offsets)
        # E-step. Forward: the prediction recursion; P(observed answer) is its scale.
        predicted, known_after, _ = _filter(layout, obs, params, flags)
        scale = np.where(obs, predicted, 1 - predicted)
        log_likelihood = float(np.log(np.maximum(scale, _EPS)).sum())
        # Backward, with the forward scaling, so alpha * beta is the posterior.
        e_unknown, e_known = _emissions(obs, params)
        beta_unknown = np.ones(n)
        beta_known = np.ones(n)
        for rows in reversed(layout.steps):
            rows = rows[layout.next_index[rows] >= 0]
            nx = layout.next_index[rows]
            row_params = params.take(rows)
            # No transition after a response that does not teach: learn = forget = 0.
            learn = np.where(flags[rows], row_params.learn, 0.0)
            forget = np.where(flags[rows], row_params.forget, 0.0)
            to_unknown = e_unknown[nx] * beta_unknown[nx] / scale[nx]
            to_known = e_known[nx] * beta_known[nx] / scale[nx]
            beta_unknown[rows] = (1 - learn) * to_unknown + learn * to_known
            beta_known[rows] = forget * to_unknown + (1 - forget) * to_known
        g_known = known_after * beta_known
        g_unknown = (1 - known_after) * beta_unknown
        total = np.maximum(g_known + g_unknown, _EPS)
        g_known, g_unknown = g_known / total, g_unknown / total
        # Expected transitions between each response and the next one.
        p_next = params.take(np.flatnonzero(has_next))
        learn = np.where(taught_next, p_next.learn, 0.0)
        forget = np.where(taught_next, p_next.forget, 0.0)
        to_unknown = e_unknown[nxt] * beta_unknown[nxt]
        to_known = e_known[nxt] * beta_known[nxt]
        xi_00 = (1 - known_after[has_next]) * (1 - learn) * to_unknown
        xi_01 = (1 - known_after[has_next]) * learn * to_known
        xi_10 = known_after[has_next] * forget * to_unknown
        xi_11 = known_after[has_next] * (1 - forget) * to_known
        xi_total = np.maximum(xi_00 + xi_01 + xi_10 + xi_11, _EPS)
        xi_00, xi_01, xi_10, xi_11 = (x / xi_total for x in (xi_00, xi_01, xi_10, xi_11))
        # M-step: expected counts per skill -> (numerator, denominator) of each parameter.
        counts = {
            "prior": (total_by_skill(g_known[is_first], is_first), total_by_skill(None, is_first)),
            "learn": (
                total_by_skill(xi_01[taught_next], taught),
                total_by_skill((xi_00 + xi_01)[taught_next], taught),
            ),
            "forget": (
                total_by_skill(xi_10[forgettable_next], forgettable),
                total_by_skill((xi_10 + xi_11)[forgettable_next], forgettable),
            ),
            "guess": (total_by_skill(g_unknown * obs), total_by_skill(g_unknown)),
            "slip": (total_by_skill(g_known * ~obs), total_by_skill(g_known)),
        }
        estimates = {
            name: _map_estimate(num, den, pseudo_count, name) for name, (num, den) in counts.items()
        }
        if has_offsets:
            # Guess: a right answer while not known, at logit(guess) - b; slip: a wrong one
            # while known, at logit(slip) + b.
            estimates["guess"] = _map_with_offsets(
                estimates["guess"], g_unknown, obs, -offsets, skill, pseudo_count, "guess"
            )
            estimates["slip"] = _map_with_offsets(
                estimates["slip"], g_known, ~obs, offsets, skill, pseudo_count, "slip"
            )
        skill_params = ParamArrays(
            **{name: np.clip(value, *BOUNDS[name]) for name, value in estimates.items()}
        )
        # Relative improvement of the log-likelihood too small to matter: converged.
        if abs(log_likelihood - previous_ll) < tolerance * abs(log_likelihood):
            break
        previous_ll = log_likelihood
    return FitResult(
        params=skill_params.to_params(), log_likelihood=log_likelihood, iterations=done
    )


# Candidate ability weights; the fit keeps the combination with the best likelihood.
ABILITY_GRID = {
    "prior_weight": (0.0, 0.5, 1.0, 1.5),
    "learn_weight": (0.0, 0.5, 1.0),
    "emission_weight": (0.0, 0.25, 0.5, 0.75, 1.0),
    "item_weight": (0.0, 0.5, 1.0),
}


def learner_abilities(by_learner: Layout, correct: np.ndarray, base_rate: float) -> np.ndarray:
    """Each response's learner ability, from that learner's earlier answers only.

    ``by_learner`` groups responses by learner alone, in the order the model sees them.
    """
    sums, counts = by_learner.window_sums(correct, window=ABILITY_WINDOW)
    return ability(sums, counts, base_rate)


def fit_ability(
    layout: Layout,
    correct: np.ndarray,
    row_params: ParamArrays,
    abilities: np.ndarray,
    *,
    base_rate: float,
    grid: Mapping[str, tuple[float, ...]] = ABILITY_GRID,
    teaches: np.ndarray | None = None,
    difficulty: np.ndarray | None = None,
) -> tuple[AbilityParams, float]:
    """The ability weights and the item weight (from ``grid``) that maximise the likelihood
    of ``correct``, with the per-skill parameters held fixed; returns them and their
    log-likelihood. Without item difficulties (None or all 0) the item weight stays 0."""
    obs = correct.astype(bool)
    has_items = difficulty is not None and bool(np.any(difficulty))
    item_weights = grid.get("item_weight", (0.0,)) if has_items else (0.0,)
    best, best_ll = AbilityParams(base_rate=base_rate), -np.inf
    for prior_weight, learn_weight, emission_weight, item_weight in itertools.product(
        grid["prior_weight"], grid["learn_weight"], grid["emission_weight"], item_weights
    ):
        weights = AbilityParams(
            prior_weight=prior_weight,
            learn_weight=learn_weight,
            emission_weight=emission_weight,
            item_weight=item_weight,
            base_rate=base_rate,
        )
        shifted = individualise(
            row_params, abilities, weights, 0.0 if difficulty is None else difficulty
        )
        predicted, _ = forward(layout, obs, shifted, teaches)
        ll = float(np.log(np.maximum(np.where(obs, predicted, 1 - predicted), _EPS)).sum())
        if ll > best_ll:
            best, best_ll = weights, ll
    return best, best_ll


@dataclass(frozen=True)
class ModelFit:
    """The skill model: BKT parameters per skill index plus the ability weights."""

    params: list[BKTParams]
    ability: AbilityParams
    em_iterations: int
    log_likelihood: float


@dataclass(frozen=True)
class Sequences:
    """Responses in the order the model sees them, laid out per learner and skill and per
    learner, with whether each one teaches (is followed by the learn/forget transition) and
    its item's difficulty in logits (0 where the data name no items)."""

    skill: np.ndarray
    correct: np.ndarray
    by_skill: Layout
    by_learner: Layout
    teaches: np.ndarray
    difficulty: np.ndarray
    # Responses that teach only because study followed them: learning, no forgetting.
    studied: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        learner: np.ndarray,
        skill: np.ndarray,
        correct: np.ndarray,
        teaches: np.ndarray | None = None,
        difficulty: np.ndarray | None = None,
        studied: np.ndarray | None = None,
    ) -> Sequences:
        """``learner`` and ``skill`` are integer indexes (skill in 0..n_skills-1), rows in time
        order within each learner; ``teaches`` defaults to every response, ``difficulty``
        to 0, ``studied`` to none."""
        order = np.arange(len(correct))
        n_skills = int(skill.max()) + 1 if len(skill) else 1
        return cls(
            skill=skill,
            correct=correct.astype(bool),
            by_skill=Layout.build(learner * n_skills + skill, order),
            by_learner=Layout.build(learner, order),
            teaches=_teaches(teaches, len(correct)),
            difficulty=np.zeros(len(correct))
            if difficulty is None
            else np.asarray(difficulty, dtype=float),
            studied=None if studied is None else np.asarray(studied, dtype=bool),
        )

    def row_params(self, params: list[BKTParams]) -> ParamArrays:
        """Per-skill parameters laid out per response, with no forgetting after study."""
        return ParamArrays.from_params(params).take(self.skill).learning_only(self.studied)


def fit_model(
    data: Sequences,
    n_skills: int,
    *,
    iterations: int = 40,
    min_answers: int = 0,
    grid: Mapping[str, tuple[float, ...]] = ABILITY_GRID,
) -> ModelFit:
    """Fit per-skill BKT by EM, then the ability weights with those parameters fixed.

    A skill with fewer than ``min_answers`` answers keeps the defaults. This is
    the fit ``fit_skill_model`` stores and ``evaluate_skill_model`` measures.
    """
    fitted = fit(
        data.by_skill,
        data.correct,
        data.skill,
        n_skills,
        iterations=iterations,
        teaches=data.teaches,
        difficulty=data.difficulty,
        studied=data.studied,
    )
    counts = np.bincount(data.skill, minlength=n_skills)
    params = [
        p if counts[i] >= min_answers else DEFAULT_PARAMS for i, p in enumerate(fitted.params)
    ]
    base_rate = float(data.correct.mean()) if len(data.correct) else NO_ABILITY.base_rate
    base_rate = min(max(base_rate, 0.05), 0.95)
    weights, ll = fit_ability(
        data.by_skill,
        data.correct,
        data.row_params(params),
        learner_abilities(data.by_learner, data.correct, base_rate),
        base_rate=base_rate,
        grid=grid,
        teaches=data.teaches,
        difficulty=data.difficulty,
    )
    return ModelFit(
        params=params, ability=weights, em_iterations=fitted.iterations, log_likelihood=ll
    )


def predict(data: Sequences, params: list[BKTParams], weights: AbilityParams) -> np.ndarray:
    """P(correct) of every response from the same learner's earlier responses only."""
    abilities = learner_abilities(data.by_learner, data.correct, weights.base_rate)
    shifted = individualise(data.row_params(params), abilities, weights, data.difficulty)
    predicted, _ = forward(data.by_skill, data.correct, shifted, data.teaches)
    return predicted
