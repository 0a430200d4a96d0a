"""Ray nodes as distributed's workers: who they are, placing work on them, moving data between
them, and what a task sees of the worker it runs on."""
