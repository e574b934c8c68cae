using Pkarr.Cli;

return await PkarrCommand.RunAsync(args).ConfigureAwait(false);
