"""The pipeline: load, resolve, the rules stage by stage, scenarios, policy; configuration and
the `test` command's comparison of findings with `# expect:`."""
