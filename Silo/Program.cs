Console.Error.WriteLine("The silo process arrives with the grain runtime; run `orleansllm generate` for now.");
return 1;
