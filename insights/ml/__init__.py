"""Predictive models (dropout risk, item analysis, segments, collaborative filtering).

Plain modules over the platform's tables; trained versions live in `insights.MLModel`.
"""
