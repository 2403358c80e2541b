using Microsoft.Extensions.Hosting;
using R2ps.Worker.Hosting;

// The HSM worker. Configuration: appsettings.json, then environment variables (Hsm__TokenLabel, RabbitMq__Uri, …),
// then the command line (--Worker:Id=w1). Start order = registration order: self-test, worker identity, store, HSM,
// service core, then the bus (consumers, saga, sweeper). Any start-up failure exits with code 1.
var builder = Host.CreateApplicationBuilder(args);
builder.Services
    .AddCryptoSelfTest()
    .AddR2psWorkerIdentity(builder.Configuration)
    .AddR2psStorePorts(builder.Configuration)
    .AddR2psHsm(builder.Configuration)
    .AddR2psServiceCore(builder.Configuration)
    .AddR2psWorkerBus(builder.Configuration);

return await WorkerProgram.RunAsync(builder);
