using R2ps.Bff.Endpoints;
using R2ps.Bff.Hosting;

// The BFF. Configuration: appsettings.json, environment variables (Bff__ConnectionString, Admin__Token, RabbitMq__Uri, …),
// the command line. Options are validated at start; the HSM keys are found or created at start.
var builder = WebApplication.CreateBuilder(args);
builder.AddR2psBff();
var app = builder.Build();
app.MapR2psBff();
app.Run();
