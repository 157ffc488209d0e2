"""The learner simulator (SPEC R-SIM): simulated learners with known knowledge that drive
the platform's own services, for the adaptivity benchmark and the demo cohort.

- ``insights.sim.generative``: the generative model (knowledge that is learnt and
  forgotten, answers with guess and slip, item difficulty), its parameters fitted on
  ASSISTments 2009 and shipped as ``assistments2009_params.json``;
- ``insights.sim.driver``: one simulated learner acting through the services;
- ``insights.sim.benchmark``: the adaptivity benchmark (``simulate_adaptivity``);
- ``insights.sim.cohort``: the demo cohort ``seed_demo`` creates.
"""
