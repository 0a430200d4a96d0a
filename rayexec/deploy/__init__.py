"""Where the cluster comes from: connecting to Ray, local clusters, HPC job queues, the commands."""
