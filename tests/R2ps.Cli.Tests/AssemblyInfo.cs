// The CLI tests run whole systems in this one test process (serve, demo, fuzz, bench, faults), each loading SoftHSM2 in
// process with its own token directory. Run in parallel, two fresh-clone CI runs lost this process to a native crash
// (exit code 5, then 139, a few tests in): one collection at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
