using R2ps.Worker.Hosting;

// The HSM worker. Configuration: appsettings.json, then environment variables (Hsm__TokenLabel, RabbitMq__Uri, …),
// then the command line (--Worker:Id=w1). Any start-up failure exits with code 1.
return await WorkerProgram.RunAsync(args, (services, configuration) => services.AddR2psWorker(configuration));
