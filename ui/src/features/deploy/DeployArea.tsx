import { areaById } from '../../app/areas';
import { NotBuiltYet } from '../../components/NotBuiltYet';

export function DeployArea() {
  return (
    <NotBuiltYet
      area={areaById('deploy')}
      willDo="This area will deploy a service bundle or roll a service back, showing the plan (what changes, from what to what) before anything happens."
      runbookProcedures={['Deploying a Service', 'Rolling Back a Deployment']}
    />
  );
}
