using Mainline.Simulator;

return SimulatorCommand.Run(args);
