// RadixServe: ClusterTests (module overview; see README "Modules").
