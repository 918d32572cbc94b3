// RadixServe: ServingClient (module overview; see README "Modules").
