using R2ps.Cli;

return await CliApplication.Create().Parse(args).InvokeAsync();
