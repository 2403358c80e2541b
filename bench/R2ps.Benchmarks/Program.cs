using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/R2ps.Benchmarks -- --filter '*'   (or '*Envelope*', '*StoreWrite*')
BenchmarkSwitcher.FromAssembly(typeof(R2ps.Benchmarks.EnvelopeBenchmarks).Assembly).Run(args);
