"""Bayesian Knowledge Tracing with forgetting, in plain numpy.

One hidden state per learner and skill: *known* or *not known*. Per skill:

- ``prior``  P(known) before the first answer,
- ``learn``  P(not known -> known) after an opportunity,
- ``forget`` P(known -> not known) after an opportunity,
- ``guess``  P(correct | not known),
- ``slip``   P(wrong | known).

For each answer the model (1) predicts P(correct) from the current mastery,
(2) conditions mastery on the observed answer (Bayes), (3) applies the
learn/forget transition. Mastery after step (3) is what a learner's level is
derived from, so every level change can be traced to one answer and these five
numbers. The same functions serve the live platform (``insights.skills``) and
the offline evaluation (``evaluate_skill_model``), so the figure measured there
is the estimate learners see.

Everything works elementwise on floats or numpy arrays, which lets the
evaluation run many learner/skill sequences side by side.
"""

from __future__ import annotations

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


def p_correct(mastery, params: BKTParams | ParamArrays):
    """P(next answer correct) given P(known) before it."""
    return mastery * (1 - params.slip) + (1 - mastery) * params.guess


def posterior(mastery, correct, params: BKTParams | ParamArrays):
    """P(known) after seeing the answer, before the learn/forget transition."""
    known_and_obs = np.where(correct, mastery * (1 - params.slip), mastery * params.slip)
    unknown_and_obs = np.where(
        correct, (1 - mastery) * params.guess, (1 - mastery) * (1 - params.guess)
    )
    return known_and_obs / np.maximum(known_and_obs + unknown_and_obs, _EPS)


def transition(mastery, params: BKTParams | ParamArrays):
    """Apply one opportunity's learning and forgetting."""
    return mastery * (1 - params.forget) + (1 - mastery) * params.learn


def update(mastery, correct, params: BKTParams | ParamArrays):
    """Mastery after one answer: Bayes on the answer, then learn/forget."""
    return transition(posterior(mastery, correct, params), params)


def trace(correct: list[bool] | np.ndarray, params: BKTParams) -> tuple[np.ndarray, np.ndarray]:
    """Run one learner's answers on one skill, starting from the prior.

    Returns (P(correct) predicted before each answer, mastery after each answer).
    """
    obs = np.asarray(correct, dtype=bool)
    predicted = np.empty(len(obs))
    mastery_after = np.empty(len(obs))
    mastery = params.prior
    for i, answer in enumerate(obs):
        predicted[i] = p_correct(mastery, params)
        mastery = float(update(mastery, answer, params))
        mastery_after[i] = mastery
    return predicted, mastery_after


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

    def to_params(self) -> list[BKTParams]:
        return [
            BKTParams(**{name: float(getattr(self, name)[i]) for name in PARAM_NAMES})
            for i in range(len(self.prior))
        ]
