using R2ps.Worker.Hosting;

// The HSM worker. Configuration: appsettings.json, then environment variables (Hsm__TokenLabel, RabbitMq__Uri, …),
// then the command line (--Worker:Id=w1). Start order = registration order: self-test, worker identity, store, HSM,
// service core, then the bus (consumers, saga, sweeper). Any start-up failure exits with code 1.
return await WorkerProgram.RunAsync(args, (services, configuration) => services
    .AddCryptoSelfTest()
    .AddR2psWorkerIdentity(configuration)
    .AddR2psStorePorts(configuration)
    .AddR2psHsm(configuration)
    .AddR2psServiceCore(configuration)
    .AddR2psWorkerBus(configuration));
